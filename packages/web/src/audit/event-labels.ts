import type { AuditEventType, AuditOutcome, PurposeOfUse } from '@consilium/protocol';

export const eventLabels: Record<AuditEventType, string> = {
  'auth.sign_in': 'Sign-in',
  'auth.second_factor': 'Second factor',
  'auth.sign_out': 'Sign-out',
  'auth.session_revoked': 'Session revoked',
  'auth.session_expired': 'Session expired',
  'mfa.totp_enrolled': 'Authenticator app added',
  'mfa.totp_removed': 'Authenticator app removed',
  'mfa.passkey_added': 'Passkey added',
  'mfa.passkey_removed': 'Passkey removed',
  'mfa.recovery_codes_generated': 'Recovery codes generated',
  'mfa.reset': 'Two-step verification reset',
  'org.created': 'Organisation created',
  'org.settings_changed': 'Settings changed',
  'org.department_created': 'Department created',
  'member.created': 'Member created',
  'member.updated': 'Member updated',
  'member.role_changed': 'Role changed',
  'member.status_changed': 'Account enabled or disabled',
  'member.verification_changed': 'Verification changed',
  'member.sessions_revoked': 'Member signed out everywhere',
  'invite.created': 'Invitation created',
  'invite.revoked': 'Invitation revoked',
  'invite.accepted': 'Invitation accepted',
  'audit.read': 'Audit log read',
  'audit.exported': 'Audit log exported',
  'device.added': 'Device added',
  'device.attached': 'Device attached',
  'device.revoked': 'Device revoked',
  'conversation.created': 'Conversation created',
  'conversation.member_added': 'Added to conversation',
  'conversation.member_removed': 'Removed from conversation',
};

/** The label of an event type; a type this build does not know yet (a newer server) shows as its code. */
export const eventLabel = (type: AuditEventType): string => eventLabels[type] ?? type;

export const outcomeLabels: Record<AuditOutcome, string> = { success: 'Success', failure: 'Failure' };

export const purposeLabels: Record<PurposeOfUse, string> = {
  TREAT: 'Treatment',
  ETREAT: 'Emergency treatment',
  HOPERAT: 'Healthcare operations',
  HSYSADMIN: 'System administration',
  PATRQT: 'Patient request',
};
