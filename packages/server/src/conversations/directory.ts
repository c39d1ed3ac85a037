import type { DirectoryEntry } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import type { AuthenticatedSession } from '../sessions/service.js';
import { connectedOrganisationIds } from '../orgs/connections.js';
import { getOrganisation } from '../orgs/store.js';

const DIRECTORY_LIMIT = 50;

/**
 * Colleagues of the caller's organisation (active accounts), verified ones first; plus, from each
 * explicitly connected organisation, its verified (identity or licence) active professionals,
 * labelled with their organisation. Unverified people of another organisation never show.
 */
export async function searchDirectory(deps: Deps, auth: AuthenticatedSession, q: string): Promise<DirectoryEntry[]> {
  const connected = await connectedOrganisationIds(deps.db, auth.organisation.id);
  let query = deps.db
    .selectFrom('account')
    .select(['id', 'display_name', 'role', 'department_id', 'verification_level', 'email', 'organisation_id'])
    .where((eb) =>
      connected.length === 0
        ? eb('organisation_id', '=', auth.organisation.id)
        : eb.or([eb('organisation_id', '=', auth.organisation.id), eb.and([eb('organisation_id', 'in', connected), eb('verification_level', '!=', 'unverified')])]),
    )
    .where('status', '=', 'active')
    // Patients are not colleagues: they are reached only through the conversation they were invited to.
    .where('role', '!=', 'patient')
    .where('id', '!=', auth.account.id);
  if (q) {
    // LIKE wildcards in the query are dropped rather than escaped (SQLite and PostgreSQL escape differently).
    const like = `%${q.toLowerCase().replace(/[\\%_]/g, '')}%`;
    query = query.where((eb) => eb.or([eb(eb.fn('lower', ['display_name']), 'like', like), eb('email', 'like', like)]));
  }
  const rows = await query.orderBy('display_name').limit(DIRECTORY_LIMIT).execute();
  const names = new Map<string, string>();
  for (const id of connected) names.set(id, (await getOrganisation(deps.db, id))?.name ?? '');
  const rank = (level: string) => (level === 'licence_verified' ? 0 : level === 'identity_verified' ? 1 : 2);
  return rows
    .sort((a, b) => rank(a.verification_level) - rank(b.verification_level))
    .map((r) => ({
      accountId: r.id,
      displayName: r.display_name,
      role: r.role,
      // Another organisation's departments mean nothing here (and are its own business).
      departmentId: r.organisation_id === auth.organisation.id ? r.department_id : null,
      verificationLevel: r.verification_level,
      ...(r.organisation_id !== auth.organisation.id && { organisation: { id: r.organisation_id, name: names.get(r.organisation_id) ?? '' } }),
    }));
}
