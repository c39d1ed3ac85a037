import { WebAuthnError, browserSupportsWebAuthn, startAuthentication, startRegistration } from '@simplewebauthn/browser';
import type { RecoveryCodes } from '@consilium/protocol';
import { passkeyChallenge, verifyPasskey } from '../api/auth';
import { passkeyRegistrationOptions, registerPasskey } from '../api/me';

export const passkeysSupported = () => browserSupportsWebAuthn();

/** Creates a passkey on this device and registers it; recovery codes come back if it was the first factor. */
export async function createPasskey(name: string): Promise<RecoveryCodes> {
  const optionsJSON = await passkeyRegistrationOptions();
  const credential = await startRegistration({ optionsJSON });
  // Spread into plain objects: the wire schema is open to extra authenticator fields.
  return registerPasskey({
    name,
    response: { ...credential, response: { ...credential.response }, clientExtensionResults: { ...credential.clientExtensionResults } },
  });
}

/** Answers the server's second-factor challenge with a passkey. */
export async function proveWithPasskey(): Promise<void> {
  const optionsJSON = await passkeyChallenge();
  const assertion = await startAuthentication({ optionsJSON });
  await verifyPasskey({
    response: { ...assertion, response: { ...assertion.response }, clientExtensionResults: { ...assertion.clientExtensionResults } },
  });
}

/** Browser-side passkey failures in words a clinician can act on; other errors pass through. */
export function explainPasskeyError(error: unknown): unknown {
  if (error instanceof WebAuthnError || (error instanceof Error && error.name === 'NotAllowedError')) {
    const name = error instanceof WebAuthnError ? (error.cause instanceof Error ? error.cause.name : error.name) : error.name;
    if (name === 'NotAllowedError' || name === 'AbortError') return new Error('The passkey request was cancelled or timed out. Try again when you are ready.');
    if (error instanceof WebAuthnError && error.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') {
      return new Error('This device already holds a passkey for your account.');
    }
    return new Error(`Your browser could not use a passkey: ${error.message}`);
  }
  return error;
}
