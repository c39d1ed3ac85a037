/**
 * This browser's messaging store in IndexedDB: the non-extractable AES-GCM state key (a
 * CryptoKey is stored as is; the browser keeps its bytes out of reach of scripts) and sealed
 * blobs keyed by name. Nothing readable is stored: MLS states and device secrets are sealed by
 * the crypto package, message history by `sealJson` below (see FIELD-NOTES "Keys in the browser").
 */
const DB_NAME = 'consilium-messaging';
const STORE = 'kv';

let opening: Promise<IDBDatabase> | null = null;

function openDb(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB cannot be opened'));
  });
  return opening;
}

function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest | void): Promise<T> {
  return openDb().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const request = work(tx.objectStore(STORE));
        // Resolve on commit, not on the request's success: "saved" must mean durable.
        tx.oncomplete = () => resolve((request ? request.result : undefined) as T);
        tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
        tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      }),
  );
}

export const localGet = <T>(key: string) => run<T | undefined>('readonly', (s) => s.get(key));

/** Writes several entries in one transaction: all of them or none. */
export const localPut = (entries: Record<string, unknown>) =>
  run<void>('readwrite', (s) => {
    for (const [key, value] of Object.entries(entries)) s.put(value, key);
  });

export const localDelete = (key: string) => run<void>('readwrite', (s) => s.delete(key));

/** The state key of this browser profile, made on first use. */
export async function stateKey(generate: () => Promise<CryptoKey>): Promise<CryptoKey> {
  const existing = await localGet<CryptoKey>('state-key');
  if (existing) return existing;
  const key = await generate();
  await localPut({ 'state-key': key });
  // Another tab may have won the race: use whichever key was stored.
  return (await localGet<CryptoKey>('state-key')) ?? key;
}

const encoder = new TextEncoder();

/** AES-GCM over JSON, bound by `aad` to the record it is stored as. */
export async function sealJson(value: unknown, key: CryptoKey, aad: string): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(aad) }, key, encoder.encode(JSON.stringify(value)));
  const out = new Uint8Array(12 + ciphertext.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ciphertext), 12);
  return out;
}

export async function openJson<T>(sealed: Uint8Array, key: CryptoKey, aad: string): Promise<T> {
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: sealed.slice(0, 12), additionalData: encoder.encode(aad) },
    key,
    sealed.slice(12),
  );
  return JSON.parse(new TextDecoder().decode(plaintext)) as T;
}

/** Deletes every entry whose key starts with `prefix` (e.g. all group states of a revoked device). */
export const localDeletePrefix = (prefix: string) => run<void>('readwrite', (s) => s.delete(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
