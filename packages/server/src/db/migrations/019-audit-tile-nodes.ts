import { PostgresAdapter, sql, type Kysely } from 'kysely';

/**
 * Audit log proofs without hashing (issue 4, proof time): each full tile also keeps the interior
 * nodes of its own subtree, the 254 hashes at heights 1 to 7 above its 256 hashes (audit/tiles.ts
 * says the layout), computed anyway when the append writes the tile. A proof then reads its nodes
 * instead of rehashing up to 255 hashes per tile. Tiles written before this have none (null) and
 * are completed from their hashes when read, as before.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
  await db.schema.alterTable('audit_tile').addColumn('nodes', sql.raw(bytes)).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('audit_tile').dropColumn('nodes').execute();
}
