import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticatorTransport,
} from '@simplewebauthn/server';
import type { PasskeyAuthenticateBody, PasskeyRegisterBody } from '@consilium/protocol';
import type { Config } from '../config.js';
import type { PasskeyTable } from '../db/schema/mfa.js';
import { ConsiliumError } from '../errors.js';

/** WebAuthn Relying Party: its ID is the host name of the public URL (never an IP address). */
export function relyingParty(config: Pick<Config, 'publicUrl'>) {
  const url = new URL(config.publicUrl);
  return { rpID: url.hostname, origin: url.origin, rpName: 'Consilium' };
}

const transportsOf = (row: Pick<PasskeyTable, 'transports'>) =>
  row.transports ? (row.transports.split(',') as AuthenticatorTransport[]) : undefined;

export async function registrationOptions(
  config: Config,
  account: { id: string; email: string; display_name: string },
  existing: PasskeyTable[],
) {
  const rp = relyingParty(config);
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: account.email,
    userDisplayName: account.display_name,
    userID: new TextEncoder().encode(account.id),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

export async function verifyRegistration(config: Config, body: PasskeyRegisterBody, expectedChallenge: string) {
  const rp = relyingParty(config);
  let result;
  try {
    result = await verifyRegistrationResponse({
      response: body.response as Parameters<typeof verifyRegistrationResponse>[0]['response'],
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: false,
    });
  } catch (err) {
    throw new ConsiliumError('PASSKEY_VERIFICATION_FAILED', `passkey registration rejected: ${(err as Error).message}`);
  }
  if (!result.verified) throw new ConsiliumError('PASSKEY_VERIFICATION_FAILED', 'passkey registration rejected');
  const { credential } = result.registrationInfo;
  return {
    credentialId: credential.id,
    publicKey: Buffer.from(credential.publicKey).toString('base64url'),
    signCount: credential.counter,
    transports: credential.transports?.join(',') ?? null,
  };
}

export async function authenticationOptions(config: Config, passkeys: PasskeyTable[]) {
  return generateAuthenticationOptions({
    rpID: relyingParty(config).rpID,
    allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
    userVerification: 'preferred',
  });
}

export async function verifyAuthentication(
  config: Config,
  body: PasskeyAuthenticateBody,
  expectedChallenge: string,
  passkey: PasskeyTable,
): Promise<number> {
  const rp = relyingParty(config);
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response: body.response as Parameters<typeof verifyAuthenticationResponse>[0]['response'],
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      credential: {
        id: passkey.credential_id,
        publicKey: Buffer.from(passkey.public_key, 'base64url'),
        counter: passkey.sign_count,
        transports: transportsOf(passkey),
      },
      requireUserVerification: false,
    });
  } catch (err) {
    throw new ConsiliumError('PASSKEY_VERIFICATION_FAILED', `passkey rejected: ${(err as Error).message}`);
  }
  if (!result.verified) throw new ConsiliumError('PASSKEY_VERIFICATION_FAILED', 'passkey rejected');
  return result.authenticationInfo.newCounter;
}
