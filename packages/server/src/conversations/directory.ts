import type { DirectoryEntry } from '@consilium/protocol';
import type { Deps } from '../deps.js';
import type { AuthenticatedSession } from '../sessions/service.js';

const DIRECTORY_LIMIT = 50;

/** Colleagues of the caller's organisation (active accounts), verified ones first. */
export async function searchDirectory(deps: Deps, auth: AuthenticatedSession, q: string): Promise<DirectoryEntry[]> {
  let query = deps.db
    .selectFrom('account')
    .select(['id', 'display_name', 'role', 'department_id', 'verification_level', 'email'])
    .where('organisation_id', '=', auth.organisation.id)
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
  const rank = (level: string) => (level === 'licence_verified' ? 0 : level === 'identity_verified' ? 1 : 2);
  return rows
    .sort((a, b) => rank(a.verification_level) - rank(b.verification_level))
    .map((r) => ({ accountId: r.id, displayName: r.display_name, role: r.role, departmentId: r.department_id, verificationLevel: r.verification_level }));
}
