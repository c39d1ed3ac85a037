import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/*
 * A software WebAuthn authenticator: what a browser plus a platform authenticator hand to the
 * relying party, built by hand so tests exercise the server's real verification.
 *
 * References:
 * - W3C Web Authentication Level 3 (WebAuthn L3):
 *   §5.8.1 CollectedClientData (clientDataJSON: type, challenge, origin, crossOrigin),
 *   §6.1 Authenticator Data (rpIdHash | flags | signCount | attestedCredentialData),
 *   §6.1.1 Signature Counter, §6.5 Attestation (attestationObject = {fmt, attStmt, authData}),
 *   §6.5.1 Attested Credential Data (aaguid | credentialIdLength | credentialId | credentialPublicKey),
 *   §6.3.3 authenticatorGetAssertion (signature over authenticatorData || SHA-256(clientDataJSON)),
 *   §8.7 None Attestation Statement Format (fmt "none", attStmt {}).
 * - RFC 8949 (CBOR) §3 (major types and argument encoding), §4.2.1 (deterministic map key order).
 * - RFC 9053 §2.1 / RFC 9052 §7 (COSE_Key): EC2 key {1: 2, 3: -7, -1: 1, -2: x, -3: y} for ES256.
 * - WebAuthn L3 §6.5.5 "Signature Formats for Packed Attestation, FIDO U2F Attestation, and
 *   Assertion Signatures": ES256 signatures are ASN.1 DER Ecdsa-Sig-Value, not raw r||s.
 */

// ---------------------------------------------------------------------------------------------
// A tiny CBOR encoder (RFC 8949): unsigned and negative integers, byte strings, text strings,
// maps. Enough for attestation objects and COSE keys.

export type CborValue = number | Uint8Array | string | Map<CborValue, CborValue>;

/** RFC 8949 §3: initial byte (major type << 5 | additional info), then the argument big-endian. */
function head(majorType: number, argument: number): Buffer {
  if (!Number.isSafeInteger(argument) || argument < 0) throw new Error(`CBOR argument out of range: ${argument}`);
  const mt = majorType << 5;
  if (argument < 24) return Buffer.from([mt | argument]);
  if (argument < 0x100) return Buffer.from([mt | 24, argument]);
  if (argument < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = mt | 25;
    b.writeUInt16BE(argument, 1);
    return b;
  }
  if (argument < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = mt | 26;
    b.writeUInt32BE(argument, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = mt | 27;
  b.writeBigUInt64BE(BigInt(argument), 1);
  return b;
}

export function cborEncode(value: CborValue): Buffer {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error('only integers are supported');
    // Major type 0: unsigned integer; major type 1: negative integer encoded as -1 - n.
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]); // major type 3: text string (UTF-8)
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)]); // major type 2: byte string
  if (value instanceof Map) {
    // Major type 5: map. Deterministic encoding (§4.2.1): keys sorted by their encoded bytes.
    const entries = [...value].map(([k, v]) => [cborEncode(k), cborEncode(v)] as const);
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    return Buffer.concat([head(5, entries.length), ...entries.flat()]);
  }
  throw new Error('unsupported CBOR value');
}

// ---------------------------------------------------------------------------------------------

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** Authenticator data flags, WebAuthn L3 §6.1. */
export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_AT = 0x40;

export interface RegistrationResponseJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; attestationObject: string; transports: string[] };
  authenticatorAttachment: 'platform';
  clientExtensionResults: Record<string, never>;
}

export interface AuthenticationResponseJSON {
  id: string;
  rawId: string;
  type: 'public-key';
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
  authenticatorAttachment: 'platform';
  clientExtensionResults: Record<string, never>;
}

export interface CeremonyOverrides {
  /** The origin the "browser" reports (a phishing site would report its own). */
  origin?: string;
  /** The RP ID whose hash goes into authenticatorData. */
  rpId?: string;
  /** Use this challenge instead of the one in the options. */
  challenge?: string;
  /** clientData.type (webauthn.create / webauthn.get). */
  type?: string;
}

/** One ES256 (ECDSA P-256 + SHA-256) credential on a software authenticator. */
export class SoftAuthenticator {
  readonly credentialId: Buffer = randomBytes(32);
  /** WebAuthn L3 §6.1.1: incremented on every assertion. */
  signCount = 0;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(
    readonly origin = 'http://localhost:8080',
    readonly rpId = 'localhost',
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  get id(): string {
    return b64url(this.credentialId);
  }

  /** COSE_Key for the public key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}. */
  coseKey(): Buffer {
    const jwk = this.publicKey.export({ format: 'jwk' });
    return cborEncode(
      new Map<CborValue, CborValue>([
        [1, 2],
        [3, -7],
        [-1, 1],
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]),
    );
  }

  private clientDataJSON(type: string, challenge: string, origin: string): Buffer {
    // §5.8.1: the challenge is the base64url of the RP's challenge bytes, as the options carry it.
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }), 'utf8');
  }

  /** §6.1: rpIdHash (32) | flags (1) | signCount (4, big-endian) | attestedCredentialData? */
  authenticatorData(flags: number, rpId: string, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.signCount);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  /** navigator.credentials.create(): a "none" attestation for a fresh credential. */
  createCredential(options: { challenge: string }, overrides: CeremonyOverrides = {}): RegistrationResponseJSON {
    const clientData = this.clientDataJSON(overrides.type ?? 'webauthn.create', overrides.challenge ?? options.challenge, overrides.origin ?? this.origin);
    // §6.5.1: aaguid (16 zero bytes for "none") | credentialIdLength (2) | credentialId | COSE key
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, this.coseKey()]);
    const authData = this.authenticatorData(FLAG_UP | FLAG_UV | FLAG_AT, overrides.rpId ?? this.rpId, attested);
    // §6.5 / §8.7: attestationObject = {"fmt": "none", "attStmt": {}, "authData": bytes}
    const attestationObject = cborEncode(
      new Map<CborValue, CborValue>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', authData],
      ]),
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), attestationObject: b64url(attestationObject), transports: ['internal'] },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }

  /** navigator.credentials.get(): an assertion signed over authenticatorData || SHA-256(clientDataJSON). */
  getAssertion(options: { challenge: string }, overrides: CeremonyOverrides = {}): AuthenticationResponseJSON {
    this.signCount += 1;
    const clientData = this.clientDataJSON(overrides.type ?? 'webauthn.get', overrides.challenge ?? options.challenge, overrides.origin ?? this.origin);
    const authData = this.authenticatorData(FLAG_UP | FLAG_UV, overrides.rpId ?? this.rpId);
    // §6.3.3 step 11; node:crypto emits ECDSA signatures DER-encoded, which §6.5.5 asks for.
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), { key: this.privateKey, dsaEncoding: 'der' });
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key',
      response: { clientDataJSON: b64url(clientData), authenticatorData: b64url(authData), signature: b64url(signature) },
      authenticatorAttachment: 'platform',
      clientExtensionResults: {},
    };
  }
}

/** A copy of an assertion with one bit of its signature flipped. */
export function tamperSignature(assertion: AuthenticationResponseJSON): AuthenticationResponseJSON {
  const sig = Buffer.from(assertion.response.signature, 'base64url');
  sig[sig.length - 1]! ^= 0x01;
  return { ...assertion, response: { ...assertion.response, signature: sig.toString('base64url') } };
}
