import { useState } from 'react';
import type { CreatedInvite, Department, Invite } from '@consilium/protocol';
import { listDepartments, listInvites, revokeInvite } from '../api/org';
import { Badge, type BadgeTone } from '../ui/Badge';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatDateTime } from '../ui/format';
import { roleLabels } from '../ui/labels';
import { useLoaded } from '../ui/use-loaded';
import { departmentName } from './directory';
import { InviteForm } from './InviteForm';
import { CreatedInviteNotice } from './CreatedInviteNotice';

type InviteStatus = 'pending' | 'accepted' | 'expired' | 'revoked';

const statusTones: Record<InviteStatus, BadgeTone> = { pending: 'accent', accepted: 'success', expired: 'neutral', revoked: 'neutral' };
const statusLabels: Record<InviteStatus, string> = { pending: 'Pending', accepted: 'Accepted', expired: 'Expired', revoked: 'Revoked' };

function statusOf(invite: Invite, now: number): InviteStatus {
  if (invite.acceptedAt) return 'accepted';
  if (invite.revokedAt) return 'revoked';
  if (Date.parse(invite.expiresAt) <= now) return 'expired';
  return 'pending';
}

async function loadInvitations(): Promise<{ invites: Invite[]; departments: Department[] }> {
  const [invites, departments] = await Promise.all([listInvites(), listDepartments()]);
  // Newest first: the one just sent is the one the admin is looking for.
  const sorted = [...invites.invites].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { invites: sorted, departments: departments.departments };
}

export function InvitationsTab() {
  const [data, reload] = useLoaded(loadInvitations);
  const [created, setCreated] = useState<CreatedInvite | null>(null);
  const [revoking, setRevoking] = useState<Invite | null>(null);

  if (data.status === 'loading') return <p className="muted">Loading invitations…</p>;
  if (data.status === 'failed') return <ErrorAlert error={data.error} />;
  const { invites, departments } = data.data;
  const now = Date.now();

  return (
    <div className="stack-large">
      <section className="card" aria-labelledby="invite-heading">
        <h2 id="invite-heading" className="card-title">
          Invite someone
        </h2>
        <InviteForm
          departments={departments}
          onCreated={(invite) => {
            setCreated(invite);
            reload();
          }}
        />
        {created && <CreatedInviteNotice invite={created} onDismiss={() => setCreated(null)} />}
      </section>

      <section aria-labelledby="invites-heading">
        <h2 id="invites-heading" className="section-title">
          Invitations
        </h2>
        {invites.length === 0 ? (
          <p className="muted">No invitations yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Department</th>
                  <th scope="col">Status</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {invites.map((invite) => {
                  const status = statusOf(invite, now);
                  return (
                    <tr key={invite.id} className={status === 'pending' ? undefined : 'row-muted'}>
                      <th scope="row">{invite.email}</th>
                      <td>{roleLabels[invite.role]}</td>
                      <td>{departmentName(departments, invite.departmentId)}</td>
                      <td>
                        <Badge tone={statusTones[status]}>{statusLabels[status]}</Badge>
                      </td>
                      <td>{formatDateTime(invite.createdAt)}</td>
                      <td>{status === 'pending' || status === 'expired' ? formatDateTime(invite.expiresAt) : '—'}</td>
                      <td>
                        {status === 'pending' && (
                          <button
                            type="button"
                            className="button button-danger-quiet button-small"
                            aria-label={`Revoke invitation for ${invite.email}`}
                            onClick={() => setRevoking(invite)}
                          >
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {revoking && (
        <ConfirmDialog
          title={`Revoke the invitation for ${revoking.email}?`}
          confirmLabel="Revoke invitation"
          onConfirm={async () => {
            await revokeInvite(revoking.id);
            if (created?.invite.id === revoking.id) setCreated(null);
            reload();
          }}
          onClose={() => setRevoking(null)}
        >
          <p>The link stops working at once. You can send a new invitation later.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
