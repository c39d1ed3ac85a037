import { getCiphersuiteFromName, getCiphersuiteImpl, type CiphersuiteImpl } from 'ts-mls';
import { MlsError, toMlsError } from './errors.js';

/**
 * The MLS ciphersuites Consilium offers. Suite 1 is RFC 9420's mandatory-to-implement suite.
 * Suite 83 replaces the X25519 KEM with X-Wing (ML-KEM-768 + X25519, a hybrid that stays
 * secure if either half holds) and keeps Ed25519 signatures, so messages cost about the same
 * and only commits and Welcomes grow. 83 is ts-mls's code point for this combination; check
 * it against the IANA registry before relying on interoperability with other MLS stacks.
 */
export const SUITES = {
  MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519: {
    id: 1,
    label: 'X25519 + AES-128-GCM + SHA-256 + Ed25519',
    postQuantum: false,
    optionalDependencies: [],
  },
  MLS_256_XWING_AES256GCM_SHA512_Ed25519: {
    id: 83,
    label: 'X-Wing (ML-KEM-768 + X25519) + AES-256-GCM + SHA-512 + Ed25519',
    postQuantum: true,
    optionalDependencies: ['@hpke/hybridkem-x-wing'],
  },
} as const satisfies Record<string, SuiteDescription>;

export type SuiteName = keyof typeof SUITES;

export interface SuiteDescription {
  readonly id: number;
  readonly label: string;
  readonly postQuantum: boolean;
  /** npm packages ts-mls imports lazily for this suite. */
  readonly optionalDependencies: readonly string[];
}

export interface SupportedSuite extends SuiteDescription {
  readonly name: SuiteName;
}

export const DEFAULT_SUITE: SuiteName = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
export const POST_QUANTUM_SUITE: SuiteName = 'MLS_256_XWING_AES256GCM_SHA512_Ed25519';

export function supportedSuites(): SupportedSuite[] {
  return (Object.keys(SUITES) as SuiteName[]).map((name) => ({ name, ...SUITES[name] }));
}

export function isSuiteName(name: string): name is SuiteName {
  return Object.hasOwn(SUITES, name);
}

export function suiteById(id: number): SuiteName | undefined {
  return (Object.keys(SUITES) as SuiteName[]).find((name) => SUITES[name].id === id);
}

/** The signature scheme of a suite; identities are bound to it, not to the whole suite. */
export function signatureSchemeOf(suite: SuiteName): string {
  return getCiphersuiteFromName(suite).signature;
}

const loaded = new Map<SuiteName, Promise<CiphersuiteImpl>>();

/** The ts-mls implementation of a suite, loaded once per process. */
export function loadSuite(suite: string): Promise<CiphersuiteImpl> {
  if (!isSuiteName(suite)) {
    return Promise.reject(new MlsError('UNSUPPORTED_SUITE', `ciphersuite ${suite} is not offered`));
  }
  let impl = loaded.get(suite);
  if (impl === undefined) {
    impl = getCiphersuiteImpl(getCiphersuiteFromName(suite)).catch((err: unknown) => {
      loaded.delete(suite); // a dependency installed later should be picked up
      throw toMlsError(err, 'UNSUPPORTED_SUITE');
    });
    loaded.set(suite, impl);
  }
  return impl;
}

/** True when the suite's optional dependencies are installed in this runtime. */
export async function isSuiteAvailable(suite: SuiteName): Promise<boolean> {
  try {
    await loadSuite(suite);
    return true;
  } catch {
    return false;
  }
}
