import type { Insertable } from 'kysely';
import type { Db } from '../db/database.js';
import type { DeviceTable, KeyPackageTable } from '../db/schema/messaging.js';

export async function insertDevice(db: Db, row: Insertable<DeviceTable>): Promise<void> {
  await db.insertInto('device').values(row).execute();
}

export function getDevice(db: Db, id: string) {
  return db.selectFrom('device').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listDevices(db: Db, accountId: string) {
  return db.selectFrom('device').selectAll().where('account_id', '=', accountId).orderBy('created_at').execute();
}

export function activeDevicesOf(db: Db, accountIds: string[]) {
  if (accountIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('device').selectAll().where('account_id', 'in', accountIds).where('revoked_at', 'is', null).orderBy('created_at').execute();
}

export async function revokeDevice(db: Db, id: string, at: string): Promise<boolean> {
  const r = await db.updateTable('device').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function touchDevice(db: Db, id: string, at: string): Promise<void> {
  await db.updateTable('device').set({ last_seen_at: at }).where('id', '=', id).execute();
}

export async function insertKeyPackages(db: Db, rows: Insertable<KeyPackageTable>[]): Promise<void> {
  if (rows.length) await db.insertInto('key_package').values(rows).execute();
}

export async function countUnclaimed(db: Db, deviceId: string): Promise<{ oneTime: number; lastResort: boolean }> {
  const rows = await db
    .selectFrom('key_package')
    .select(['last_resort', (eb) => eb.fn.countAll<string | number>().as('n')])
    .where('device_id', '=', deviceId)
    .where('claimed_at', 'is', null)
    .groupBy('last_resort')
    .execute();
  return {
    oneTime: Number(rows.find((r) => Number(r.last_resort) === 0)?.n ?? 0),
    lastResort: rows.some((r) => Number(r.last_resort) === 1 && Number(r.n) > 0),
  };
}

/** Replaces the device's last-resort key package (only the newest one is handed out). */
export async function retireLastResort(db: Db, deviceId: string, at: string): Promise<void> {
  await db.updateTable('key_package').set({ claimed_at: at, claimed_by: 'replaced' }).where('device_id', '=', deviceId).where('last_resort', '=', 1).where('claimed_at', 'is', null).execute();
}

/**
 * Takes one unclaimed, unexpired one-time key package of the device, marking it claimed in the
 * same statement (so two claimers never get the same one); falls back to the last-resort one,
 * which stays available.
 */
export async function claimKeyPackage(db: Db, deviceId: string, claimer: string, now: string) {
  for (;;) {
    const candidate = await db
      .selectFrom('key_package')
      .select(['ref', 'data'])
      .where('device_id', '=', deviceId)
      .where('last_resort', '=', 0)
      .where('claimed_at', 'is', null)
      .where('not_after', '>', now)
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    if (!candidate) break;
    const r = await db
      .updateTable('key_package')
      .set({ claimed_at: now, claimed_by: claimer })
      .where('ref', '=', candidate.ref)
      .where('claimed_at', 'is', null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return { data: candidate.data, lastResort: false };
  }
  const lastResort = await db
    .selectFrom('key_package')
    .select(['data'])
    .where('device_id', '=', deviceId)
    .where('last_resort', '=', 1)
    .where('claimed_at', 'is', null)
    .where('not_after', '>', now)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return lastResort ? { data: lastResort.data, lastResort: true } : null;
}

/** Key packages of the device anyone has claimed so far (zero for a device nobody has added yet). */
export async function countClaimedEver(db: Db, deviceId: string): Promise<number> {
  const row = await db
    .selectFrom('key_package')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('device_id', '=', deviceId)
    .where('claimed_at', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function bindSessionToDevice(db: Db, sessionId: string, deviceId: string): Promise<void> {
  await db.updateTable('session').set({ device_id: deviceId }).where('id', '=', sessionId).execute();
}

export async function endDeviceSessions(db: Db, deviceId: string, at: string): Promise<number> {
  const r = await db.updateTable('session').set({ ended_at: at, end_reason: 'device_revoked' }).where('device_id', '=', deviceId).where('ended_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}
