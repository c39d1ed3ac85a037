import { z } from 'zod';

export const API_PREFIX = '/api/v1';
export const PROTOCOL_VERSION = '1.0.0';

export const Id = z.uuid();
export const Timestamp = z.iso.datetime();
export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((e) => e.toLowerCase());
export const DisplayName = z.string().trim().min(1).max(120);

/**
 * NIST SP 800-63B: length matters more than composition rules; we ask for 12+ characters and
 * cap at 256 so hashing cost stays bounded.
 */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
export const NewPassword = z.string().min(PASSWORD_MIN_LENGTH).max(PASSWORD_MAX_LENGTH);
/** Sign-in does not reveal the policy; it only bounds the input. */
export const PasswordInput = z.string().min(1).max(PASSWORD_MAX_LENGTH);

export const Ok = z.strictObject({ ok: z.literal(true) });
export type Ok = z.infer<typeof Ok>;

export const IdParams = z.strictObject({ id: Id });
