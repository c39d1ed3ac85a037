import { generateSecret, generateURI, verify } from 'otplib';

// RFC 6238 TOTP with the Google Authenticator Key Uri Format defaults every authenticator app
// understands: SHA-1, 6 digits, 30-second period.
const PERIOD = 30;

export function newTotpSecret(): string {
  return generateSecret();
}

export function totpUri(secret: string, issuer: string, label: string): string {
  return generateURI({ issuer, label, secret });
}

/**
 * Accepts the current step and one either side (clock drift, RFC 6238 §5.2), and only steps
 * after `afterTimeStep`, so a code that was accepted once is never accepted again.
 * Returns the accepted time step, or null.
 */
export async function checkTotp(secret: string, code: string, at: Date, afterTimeStep: number | null): Promise<number | null> {
  const epoch = Math.floor(at.getTime() / 1000);
  const result = await verify({
    secret,
    token: code,
    epoch,
    epochTolerance: PERIOD,
    ...(afterTimeStep !== null ? { afterTimeStep } : {}),
  });
  // RFC 6238 §4.2: T = floor(unixtime / period); delta is the window offset of the match.
  return result.valid ? Math.floor(epoch / PERIOD) + result.delta : null;
}
