import type { LicenceRegister, Role, VerificationLevel } from '@consilium/protocol';
import type { BadgeTone } from './Badge';

export const roleLabels: Record<Role, string> = {
  clinician: 'Clinician',
  nurse: 'Nurse',
  admin: 'Administrator',
  security_officer: 'Security officer',
  patient: 'Patient',
};

export const verificationLabels: Record<VerificationLevel, string> = {
  unverified: 'Unverified',
  identity_verified: 'Identity verified',
  licence_verified: 'Licence verified',
};

export const verificationTones: Record<VerificationLevel, BadgeTone> = {
  unverified: 'warning',
  identity_verified: 'accent',
  licence_verified: 'success',
};

export const registerLabels: Record<LicenceRegister, string> = {
  BIG: 'BIG register (Netherlands)',
  GMC: 'GMC (United Kingdom, doctors)',
  NMC: 'NMC (United Kingdom, nurses and midwives)',
  NPI: 'NPI (United States)',
  RIZIV: 'RIZIV/INAMI (Belgium)',
  AHPRA: 'AHPRA (Australia)',
  OTHER: 'Other register',
};
