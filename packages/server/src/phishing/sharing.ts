import type { CampaignRole, CampaignSharing } from '@consilium/protocol';
import { inTransaction, iso, type Deps } from '../deps.js';
import { ConsiliumError, notFound } from '../errors.js';
import { auditEvent, recordAudit, type Actor } from '../audit/record.js';
import { getAccountInOrg, listAccountsInOrg } from '../accounts/store.js';
import * as store from './store.js';

/**
 * Campaign sharing. Every campaign route runs through `requireCampaignRole`:
 * - someone the campaign is not shared with gets NOT_FOUND, like a campaign of another
 *   organisation (its existence is not revealed);
 * - a member whose role is too low gets CAMPAIGN_ROLE_REQUIRED (403).
 * viewer < author < owner: viewers read results, authors also launch and cancel, the owner also
 * shares and revokes.
 */
const RANK: Record<CampaignRole, number> = { viewer: 1, author: 2, owner: 3 };

/** The roles of the organisation that may hold a campaign role at all. */
const STAFF_ROLES = new Set(['admin', 'security_officer']);

export async function requireCampaignRole(
  deps: Deps,
  organisationId: string,
  accountId: string,
  campaignId: string,
  needed: CampaignRole,
): Promise<{ campaign: store.CampaignRow; role: CampaignRole }> {
  const campaign = await store.getCampaignInOrg(deps.db, organisationId, campaignId);
  const member = campaign ? await store.getMember(deps.db, campaignId, accountId) : undefined;
  if (!campaign || !member) throw notFound('campaign');
  const role = member.role as CampaignRole;
  if (RANK[role] < RANK[needed]) throw new ConsiliumError('CAMPAIGN_ROLE_REQUIRED', `this needs the ${needed} role on the campaign; you are ${role}`);
  return { campaign, role };
}

export async function getSharing(deps: Deps, organisationId: string, accountId: string, campaignId: string): Promise<CampaignSharing> {
  const { role } = await requireCampaignRole(deps, organisationId, accountId, campaignId, 'viewer');
  const members = await store.listMembers(deps.db, campaignId);
  const taken = new Set(members.map((m) => m.account_id));
  const candidates =
    role === 'owner'
      ? (await listAccountsInOrg(deps.db, organisationId))
          .filter((a) => a.status === 'active' && STAFF_ROLES.has(a.role) && !taken.has(a.id))
          .map((a) => ({ accountId: a.id, displayName: a.display_name, email: a.email }))
      : [];
  return {
    members: members.map((m) => ({ accountId: m.account_id, displayName: m.display_name, email: m.email, role: m.role as CampaignRole, grantedAt: m.granted_at })),
    candidates,
  };
}

/** Grants (or changes) author / viewer. Only the owner; only to active admins or security officers of the same organisation. */
export async function shareCampaign(deps: Deps, actor: Actor, organisationId: string, campaignId: string, accountId: string, role: 'author' | 'viewer'): Promise<CampaignSharing> {
  const owner = actor.accountId ?? '';
  await inTransaction(deps, async (tx) => {
    await requireCampaignRole(tx, organisationId, owner, campaignId, 'owner');
    // Another organisation's account is answered exactly like a missing one.
    const target = await getAccountInOrg(tx.db, organisationId, accountId);
    if (!target) throw notFound('account');
    if (!STAFF_ROLES.has(target.role) || target.status !== 'active') {
      throw new ConsiliumError('FORBIDDEN', 'campaigns are shared only with active admins and security officers');
    }
    const existing = await store.getMember(tx.db, campaignId, accountId);
    if (existing?.role === 'owner') throw new ConsiliumError('CONFLICT', 'the owner keeps the owner role');
    const now = iso(tx.now());
    if (existing) await store.setMemberRole(tx.db, campaignId, accountId, role, owner, now);
    else await store.insertMember(tx.db, { campaign_id: campaignId, account_id: accountId, role, granted_by: owner, granted_at: now });
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'phishing.campaign_shared', 'U', {
        entity: { type: 'phishing_campaign', id: campaignId },
        detail: { account: accountId, role, previousRole: existing?.role ?? null },
      }),
    );
  });
  return getSharing(deps, organisationId, owner, campaignId);
}

export async function unshareCampaign(deps: Deps, actor: Actor, organisationId: string, campaignId: string, accountId: string): Promise<CampaignSharing> {
  const owner = actor.accountId ?? '';
  await inTransaction(deps, async (tx) => {
    await requireCampaignRole(tx, organisationId, owner, campaignId, 'owner');
    const existing = await store.getMember(tx.db, campaignId, accountId);
    if (!existing) throw notFound('campaign member');
    if (existing.role === 'owner') throw new ConsiliumError('CONFLICT', 'the owner cannot be removed');
    await store.deleteMember(tx.db, campaignId, accountId);
    await recordAudit(
      tx,
      auditEvent(tx, actor, 'phishing.campaign_unshared', 'U', { entity: { type: 'phishing_campaign', id: campaignId }, detail: { account: accountId, role: existing.role } }),
    );
  });
  return getSharing(deps, organisationId, owner, campaignId);
}
