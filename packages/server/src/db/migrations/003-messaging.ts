import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('device')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('ciphersuite', 'integer', (c) => c.notNull())
    .addColumn('signature_public_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('device_account').on('device').column('account_id').execute();

  await db.schema.alterTable('session').addColumn('device_id', 'text', (c) => c.references('device.id')).execute();

  await db.schema
    .createTable('key_package')
    .addColumn('ref', 'text', (c) => c.primaryKey())
    .addColumn('device_id', 'text', (c) => c.notNull().references('device.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('last_resort', 'integer', (c) => c.notNull())
    .addColumn('not_after', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('claimed_at', 'text')
    .addColumn('claimed_by', 'text')
    .execute();
  await db.schema.createIndex('key_package_device').on('key_package').columns(['device_id', 'claimed_at']).execute();

  await db.schema
    .createTable('conversation')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('organisation_id', 'text', (c) => c.notNull().references('organisation.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('direct_key', 'text', (c) => c.unique())
    .addColumn('created_by', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('last_seq', 'integer', (c) => c.notNull())
    .addColumn('min_send_epoch', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('conversation_member')
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversation.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('account.id'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('added_at', 'text', (c) => c.notNull())
    .addColumn('removed_at', 'text')
    .addPrimaryKeyConstraint('conversation_member_pk', ['conversation_id', 'account_id'])
    .execute();
  await db.schema.createIndex('conversation_member_account').on('conversation_member').column('account_id').execute();

  await db.schema
    .createTable('conversation_device')
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversation.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('device.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('joined_seq', 'integer', (c) => c.notNull())
    .addColumn('removed_seq', 'integer')
    .addPrimaryKeyConstraint('conversation_device_pk', ['conversation_id', 'device_id'])
    .execute();
  await db.schema.createIndex('conversation_device_device').on('conversation_device').column('device_id').execute();

  await db.schema
    .createTable('mls_message')
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversation.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('client_message_id', 'text', (c) => c.notNull())
    .addColumn('sender_device_id', 'text', (c) => c.notNull())
    .addColumn('sender_account_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('mls_message_pk', ['conversation_id', 'seq'])
    .addUniqueConstraint('mls_message_client_id', ['conversation_id', 'client_message_id'])
    .execute();

  await db.schema
    .createTable('welcome')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversation.id'))
    .addColumn('device_id', 'text', (c) => c.notNull().references('device.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('consumed_at', 'text')
    .execute();
  await db.schema.createIndex('welcome_device').on('welcome').columns(['device_id', 'consumed_at']).execute();

  await db.schema
    .createTable('delivery_cursor')
    .addColumn('device_id', 'text', (c) => c.notNull().references('device.id'))
    .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversation.id'))
    .addColumn('acked_seq', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('delivery_cursor_pk', ['device_id', 'conversation_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['delivery_cursor', 'welcome', 'mls_message', 'conversation_device', 'conversation_member', 'conversation', 'key_package']) {
    await db.schema.dropTable(t).execute();
  }
  await db.schema.alterTable('session').dropColumn('device_id').execute();
  await db.schema.dropTable('device').execute();
}
