import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { commitUpdate, encryptAttachment } from '@consilium/crypto';
import { encodeMessageContent, type AttachmentDescriptor } from '@consilium/protocol';
import type { Reply, TestClient, TestServer } from '../test-support/harness.js';
import { expectError } from '../test-support/http.js';
import { auditEntriesOfType } from '../test-support/audit.js';
import { DeviceDirectory, MlsDevice, seedMessagingCast, startMessagingRig, type MessagingRig, type Organisation, type Person } from '../test-support/mls-client.js';
import { inTransaction } from '../deps.js';
import { blobDirOf, blobPath } from './blob-store.js';
import { removeReleasedBlobs, unlinkBlobs } from './service.js';
import { ORPHAN_FILE_MIN_AGE_SECONDS, sweepOrphanBlobFiles, sweepPendingAttachments } from './sweep.js';

// Pending uploads (confirm=on-send) and their confirmation by the message send, the sweep of
// uploads no sent message named, and the crash-safe order of deletion (row, commit, then file;
// files without rows swept after an hour). Real server, real database (SQLite, or PostgreSQL with
// CONSILIUM_TEST_PG), real MLS devices and ciphertext; the test clock moves time.

const DAY = 86_400;
let rig: MessagingRig;
let server: TestServer;
let org: Organisation;
const directory = new DeviceDirectory();
let alice: Person;
let bob: Person;
let carol: Person;
let mallory: Person;
let a1: MlsDevice;
let b1: MlsDevice;
let c1: MlsDevice;
let m1: MlsDevice;
/** Alice and Bob. */
let direct: string;
/** Alice and Carol. */
let other: string;
/** Alice and Bob again. */
let group: string;

beforeAll(async () => {
  rig = await startMessagingRig();
  server = rig.server;
  ({ org, alice, bob, carol, mallory } = await seedMessagingCast(server));
  a1 = await MlsDevice.create(server, alice, directory, { keyPackages: 8 });
  b1 = await MlsDevice.create(server, bob, directory, { keyPackages: 8 });
  c1 = await MlsDevice.create(server, carol, directory, { keyPackages: 8 });
  m1 = await MlsDevice.create(server, mallory, directory);
  direct = await a1.createConversation('direct', [bob.id]);
  other = await a1.createConversation('direct', [carol.id]);
  group = await a1.createConversation('group', [bob.id]);
  await b1.joinWelcomes();
  await c1.joinWelcomes();
}, 120_000);
afterAll(() => rig?.stop());

const cookieOf = (client: TestClient) => [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const fileOf = (blobId: string) => blobPath(blobDirOf(server.deps.config), blobId);
const linksOf = (blobId: string) =>
  server.deps.db.selectFrom('attachment_link').select(['conversation_id', 'confirmed_at']).where('blob_id', '=', blobId).orderBy('conversation_id').execute();
const rowOf = (blobId: string) => server.deps.db.selectFrom('attachment_blob').select('blob_id').where('blob_id', '=', blobId).executeTakeFirst();

type Photo = AttachmentDescriptor & { ciphertext: Uint8Array };

async function photo(): Promise<Photo> {
  const { descriptor, ciphertext } = await encryptAttachment(new Uint8Array(randomBytes(1500)), { fileName: 'wound.jpg', contentType: 'image/jpeg' });
  return { ...descriptor, ciphertext: new Uint8Array(Buffer.concat(ciphertext)) };
}

async function upload(client: TestClient, p: Photo, conversationId: string, confirm: string | null = 'on-send'): Promise<Reply> {
  const res = await fetch(
    `${client.baseUrl}/api/v1/attachments/${p.blobId}?conversationId=${conversationId}&contentType=image%2Fjpeg${confirm === null ? '' : `&confirm=${confirm}`}`,
    { method: 'PUT', headers: { cookie: cookieOf(client), 'content-type': 'application/octet-stream' }, body: p.ciphertext },
  );
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function uploaded(client: TestClient, conversationId: string, confirm: string | null = 'on-send'): Promise<Photo> {
  const p = await photo();
  const r = await upload(client, p, conversationId, confirm);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return p;
}

/** Sends a message carrying the photos' keys and naming their blobs, as the web client does. */
async function sendNaming(device: MlsDevice, conversationId: string, photos: Photo[], attachmentIds: unknown = photos.map((p) => p.blobId)): Promise<Reply> {
  const descriptors = photos.map(({ ciphertext: _, ...d }) => d);
  const body = await device.encrypt(conversationId, encodeMessageContent({ text: 'see photo', attachments: descriptors }));
  return device.submit(conversationId, { ...body, attachmentIds } as never);
}

async function downloadStatus(client: TestClient, blobId: string, conversationId: string): Promise<number> {
  const res = await fetch(`${client.baseUrl}/api/v1/attachments/${blobId}?conversationId=${conversationId}`, { headers: { cookie: cookieOf(client) } });
  await res.arrayBuffer();
  return res.status;
}

/** Moves the clock; sessions end when it moves by hours, so every device signs in again. */
async function advance(seconds: number) {
  server.clock.advance(seconds);
  for (const d of [a1, b1, c1, m1]) expect((await d.attach()).status).toBe(200);
}

/**
 * Sweeps pending uploads and gives what was deleted since the audit log held `before`
 * attachment.discarded entries: the server's own minute sweep (its case timers, on the same
 * test clock) may run between a clock move and this call and delete them first, so the count
 * comes from the entries either sweep wrote (waiting for a sweep still under way).
 */
async function sweepCounted(before: number, expected: { links: number; files: number }) {
  await sweepPendingAttachments(server.deps);
  await vi.waitFor(async () => {
    const entries = (await auditEntriesOfType(server, org.id, 'attachment.discarded')).slice(before);
    const detail = entries.map((e) => e.detail as { attachments: number; deletedBlobs: number });
    expect({ links: detail.reduce((n, d) => n + d.attachments, 0), files: detail.reduce((n, d) => n + d.deletedBlobs, 0) }).toEqual(expected);
  });
}

/** Sets a file's modification time `seconds` before the test clock's now. */
const age = (file: string, seconds: number) => {
  const t = new Date(server.clock.now().getTime() - seconds * 1000);
  return utimes(file, t, t);
};

describe('pending uploads are confirmed by the message that carries them', () => {
  it('deletes an upload no sent message named after attachmentPendingHours; keeps sent and legacy ones; audits it', async () => {
    const pending = await photo();
    const up = await upload(a1.client, pending, direct);
    expect(up.status).toBe(200);
    expect(Date.parse(up.body.confirmBy) - Date.parse(up.body.uploadedAt)).toBe(24 * 3600 * 1000);
    const sent = await uploaded(a1.client, direct);
    const legacy = await uploaded(a1.client, direct, null);
    expect(legacy).toBeDefined();
    expect((await linksOf(pending.blobId))[0]!.confirmed_at).toBeNull();
    expect((await linksOf(sent.blobId))[0]!.confirmed_at).toBeNull();
    expect((await linksOf(legacy.blobId))[0]!.confirmed_at).not.toBeNull();

    const r = await sendNaming(a1, direct, [sent]);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await linksOf(sent.blobId))[0]!.confirmed_at).not.toBeNull();

    expect(await sweepPendingAttachments(server.deps)).toEqual({ links: 0, files: 0 });
    // An hour short of the day (signing in again moves the clock by a few TOTP steps too).
    await advance(DAY - 3600);
    expect(await sweepPendingAttachments(server.deps)).toEqual({ links: 0, files: 0 });
    expect(existsSync(fileOf(pending.blobId))).toBe(true);

    const before = (await auditEntriesOfType(server, org.id, 'attachment.discarded')).length;
    await advance(3600 + 60);
    await sweepCounted(before, { links: 1, files: 1 });
    expect(existsSync(fileOf(pending.blobId))).toBe(false);
    expect(await rowOf(pending.blobId)).toBeUndefined();
    expect(await linksOf(pending.blobId)).toEqual([]);
    for (const kept of [sent, legacy]) {
      expect(existsSync(fileOf(kept.blobId))).toBe(true);
      expect(await downloadStatus(b1.client, kept.blobId, direct)).toBe(200);
    }
    expect(await downloadStatus(b1.client, pending.blobId, direct)).toBe(404);
    const discarded = await auditEntriesOfType(server, org.id, 'attachment.discarded');
    expect(discarded).toHaveLength(1);
    expect(discarded[0]).toMatchObject({ action: 'D', entity: { type: 'conversation', id: direct }, detail: { attachments: 1, deletedBlobs: 1 } });
    expect(discarded[0]!.actor.accountId).toBeNull();
    // A second sweep finds nothing more.
    expect(await sweepPendingAttachments(server.deps)).toEqual({ links: 0, files: 0 });
  });

  it('uploading a pending blob again starts its time again; a pending link goes alone while another conversation keeps the file', async () => {
    const again = await uploaded(a1.client, direct);
    await advance(20 * 3600);
    expect((await upload(a1.client, again, direct)).status).toBe(200);
    await advance(10 * 3600);
    expect((await sweepPendingAttachments(server.deps)).links).toBe(0);
    expect(existsSync(fileOf(again.blobId))).toBe(true);

    // The same ciphertext, sent in Alice and Carol's conversation, pending in Alice and Bob's.
    const shared = await uploaded(a1.client, other);
    expect((await sendNaming(a1, other, [shared])).status).toBe(200);
    expect((await upload(a1.client, shared, direct)).status).toBe(200);
    const before = (await auditEntriesOfType(server, org.id, 'attachment.discarded')).length;
    await advance(DAY + 60);
    await sweepCounted(before, { links: 2, files: 1 });
    expect(existsSync(fileOf(again.blobId))).toBe(false);
    expect(existsSync(fileOf(shared.blobId))).toBe(true);
    expect((await linksOf(shared.blobId)).map((l) => l.conversation_id)).toEqual([other]);
    expect(await downloadStatus(c1.client, shared.blobId, other)).toBe(200);
    expect(await downloadStatus(b1.client, shared.blobId, direct)).toBe(404);
  });

  it('confirms only links of the conversation sent to: another conversation’s blob, outsiders and bad input are refused and change nothing', async () => {
    const mine = await uploaded(a1.client, direct);
    const second = await uploaded(a1.client, direct);
    const lastSeq = async () => Number((await server.deps.db.selectFrom('conversation').select('last_seq').where('id', '=', other).executeTakeFirstOrThrow()).last_seq);
    const before = await lastSeq();
    // A member of both conversations names, in Alice and Carol's, a blob uploaded for Alice and Bob's.
    expectError(await sendNaming(a1, other, [mine]), 'NOT_FOUND');
    // One unknown id refuses the whole message: the other blob it names stays pending.
    const unknown = await photo();
    expectError(await sendNaming(a1, direct, [second, unknown]), 'NOT_FOUND');
    expect(await lastSeq()).toBe(before);
    for (const p of [mine, second]) expect((await linksOf(p.blobId)).map((l) => l.confirmed_at)).toEqual([null]);

    // Carol is not in Alice and Bob's conversation; Mallory is in another organisation.
    expectError(await c1.submit(direct, { ...(await c1.encrypt(other, 'x')), attachmentIds: [mine.blobId] }), 'NOT_FOUND');
    const mallorys = await m1.encrypt(await m1.createConversation('group', []), 'x');
    expectError(await m1.submit(direct, { ...mallorys, attachmentIds: [mine.blobId] }), 'NOT_FOUND');
    expect((await linksOf(mine.blobId)).map((l) => l.confirmed_at)).toEqual([null]);

    // Not blob ids, the same id twice, more than a message carries: refused by the schema.
    expectError(await sendNaming(a1, direct, [mine], ['photo.jpg']), 'VALIDATION_FAILED');
    expectError(await sendNaming(a1, direct, [mine], [mine.blobId.toUpperCase()]), 'VALIDATION_FAILED');
    expectError(await sendNaming(a1, direct, [mine], [mine.blobId, mine.blobId]), 'VALIDATION_FAILED');
    expectError(await sendNaming(a1, direct, [mine], Array.from({ length: 11 }, () => randomBytes(32).toString('hex'))), 'VALIDATION_FAILED');
    expectError(await sendNaming(a1, direct, [mine], mine.blobId), 'VALIDATION_FAILED');
    expectError(await upload(a1.client, mine, direct, 'later'), 'VALIDATION_FAILED');
    // A commit carries no attachments: a real MLS commit naming one is refused before it is relayed.
    const epochBefore = Number((await server.deps.db.selectFrom('conversation').select('epoch').where('id', '=', direct).executeTakeFirstOrThrow()).epoch);
    const commitNaming = await a1.commit(direct, (s) => commitUpdate(s), { attachmentIds: [mine.blobId] }, { rebase: false });
    expectError(commitNaming.reply, 'VALIDATION_FAILED');
    expect(Number((await server.deps.db.selectFrom('conversation').select('epoch').where('id', '=', direct).executeTakeFirstOrThrow()).epoch)).toBe(epochBefore);
    expect((await linksOf(mine.blobId)).map((l) => l.confirmed_at)).toEqual([null]);

    // Any member sending in the conversation confirms its links (only those who got the key know the id).
    const r = await sendNaming(b1, direct, [mine, second]);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    for (const p of [mine, second]) expect((await linksOf(p.blobId))[0]!.confirmed_at).not.toBeNull();
    expect(await downloadStatus(b1.client, mine.blobId, direct)).toBe(200);
  });
});

describe('deletion is crash-safe: the row goes (and commits) before the file', () => {
  it('a deletion that does not commit leaves both row and file', async () => {
    const p = await uploaded(a1.client, direct, null);
    await expect(
      inTransaction(server.deps, async (tx) => {
        expect((await unlinkBlobs(tx, direct, [p.blobId])).released).toEqual([p.blobId]);
        throw new Error('crash before the commit');
      }),
    ).rejects.toThrow('crash before the commit');
    expect(await rowOf(p.blobId)).toBeDefined();
    expect(existsSync(fileOf(p.blobId))).toBe(true);
    expect(await downloadStatus(b1.client, p.blobId, direct)).toBe(200);
  });

  it('a crash after the commit leaves a file without a row: the sweep removes it once it is an hour old, and stale upload temporaries', async () => {
    const p = await uploaded(a1.client, direct, null);
    const kept = await uploaded(a1.client, direct, null);
    // Committed, and the process "dies" before removeReleasedBlobs.
    await inTransaction(server.deps, (tx) => unlinkBlobs(tx, direct, [p.blobId]));
    expect(await rowOf(p.blobId)).toBeUndefined();
    expect(existsSync(fileOf(p.blobId))).toBe(true);
    const incoming = path.join(blobDirOf(server.deps.config), 'incoming');
    await mkdir(incoming, { recursive: true });
    const stale = path.join(incoming, 'crashed.part');
    const live = path.join(incoming, 'streaming.part');
    await writeFile(stale, 'half');
    await writeFile(live, 'half');

    await age(fileOf(p.blobId), ORPHAN_FILE_MIN_AGE_SECONDS - 60);
    await age(stale, ORPHAN_FILE_MIN_AGE_SECONDS - 60);
    await age(live, 0);
    expect(await sweepOrphanBlobFiles(server.deps)).toEqual({ files: 0, incoming: 0 });
    expect(existsSync(fileOf(p.blobId))).toBe(true);

    await age(fileOf(p.blobId), ORPHAN_FILE_MIN_AGE_SECONDS + 60);
    await age(stale, ORPHAN_FILE_MIN_AGE_SECONDS + 60);
    // An old file that has its row stays, whatever its age.
    await age(fileOf(kept.blobId), 30 * DAY);
    expect(await sweepOrphanBlobFiles(server.deps)).toEqual({ files: 1, incoming: 1 });
    expect(existsSync(fileOf(p.blobId))).toBe(false);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(fileOf(kept.blobId))).toBe(true);
    expect(await downloadStatus(b1.client, kept.blobId, direct)).toBe(200);
  });

  it('a file whose row went is kept when an upload of the same content links it again before the file is removed', async () => {
    const p = await uploaded(a1.client, direct, null);
    const released = await inTransaction(server.deps, async (tx) => (await unlinkBlobs(tx, direct, [p.blobId])).released);
    // Between that commit and the file's removal, Bob uploads the same ciphertext for another
    // conversation: the row is new, the file already in place is the one it uses.
    const again = await upload(b1.client, p, group, null);
    expect(again.body).toMatchObject({ created: true });
    expect(await removeReleasedBlobs(server.deps, released)).toBe(0);
    expect(existsSync(fileOf(p.blobId))).toBe(true);
    // Nor does the sweep of files without rows take it, however old the file.
    await age(fileOf(p.blobId), 2 * ORPHAN_FILE_MIN_AGE_SECONDS);
    expect((await sweepOrphanBlobFiles(server.deps)).files).toBe(0);
    expect(await downloadStatus(a1.client, p.blobId, group)).toBe(200);
  });

  it('an upload racing the sweep of the same blob’s pending link always ends with its row, its link and its file', async () => {
    for (let round = 0; round < 6; round++) {
      const p = await uploaded(a1.client, direct);
      // Pending for two days already (moving the clock would end the sessions every round).
      const longAgo = new Date(server.clock.now().getTime() - 2 * DAY * 1000).toISOString();
      await server.deps.db.updateTable('attachment_link').set({ created_at: longAgo }).where('blob_id', '=', p.blobId).execute();
      const [swept, up] = await Promise.all([sweepPendingAttachments(server.deps), upload(b1.client, p, group, null)]);
      expect(up.status, `round ${round}`).toBe(200);
      expect(swept.links, `round ${round}`).toBe(1);
      expect((await linksOf(p.blobId)).map((l) => l.conversation_id), `round ${round}`).toEqual([group]);
      expect(await rowOf(p.blobId), `round ${round}`).toBeDefined();
      expect(existsSync(fileOf(p.blobId)), `round ${round}`).toBe(true);
      expect(await downloadStatus(a1.client, p.blobId, group), `round ${round}`).toBe(200);
    }
  });
});
