import { useState } from 'react';
import type { Member } from '@consilium/protocol';
import { resetMemberMfa, updateMember } from '../api/org';
import { useActiveSession } from '../app/active-session';
import { Badge } from '../ui/Badge';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusMessage } from '../ui/StatusMessage';
import { roleLabels, verificationLabels, verificationTones } from '../ui/labels';
import { useLoaded } from '../ui/use-loaded';
import { departmentName, loadDirectory, type Directory } from './directory';
import { EditMemberDialog } from './EditMemberDialog';
import { VerifyMemberDialog } from './VerifyMemberDialog';

type OpenDialog =
  | { kind: 'edit'; member: Member }
  | { kind: 'verify'; member: Member }
  | { kind: 'reset-mfa'; member: Member }
  | { kind: 'disable'; member: Member };

export function MembersTab() {
  const { me, refresh } = useActiveSession();
  const [directory, reload, replace] = useLoaded(loadDirectory);
  const [dialog, setDialog] = useState<OpenDialog | null>(null);
  const [done, setDone] = useState<string | null>(null);

  if (directory.status === 'loading') return <p className="muted">Loading members…</p>;
  if (directory.status === 'failed') return <ErrorAlert error={directory.error} />;
  const { members, departments } = directory.data;

  const saved = (member: Member, message: string) => {
    const next: Directory = { departments, members: members.map((m) => (m.id === member.id ? member : m)) };
    replace(next);
    setDone(message);
    // The admin changed their own account: the top bar and the Admin link follow /me.
    if (member.id === me.account.id) void refresh();
  };
  const close = () => setDialog(null);

  return (
    <>
      <StatusMessage tone="success">{done}</StatusMessage>
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Members of {me.organisation.name}</caption>
          <thead>
            <tr>
              <th scope="col">Name and e-mail</th>
              <th scope="col">Role</th>
              <th scope="col">Department</th>
              <th scope="col">Verification</th>
              <th scope="col">MFA</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {members.map((member) => (
              <MemberRow
                key={member.id}
                member={member}
                departmentName={departmentName(departments, member.departmentId)}
                isSelf={member.id === me.account.id}
                onOpen={(kind) => {
                  setDone(null);
                  setDialog({ kind, member });
                }}
                onEnabled={(updated) => saved(updated, `${updated.displayName} can sign in again.`)}
              />
            ))}
          </tbody>
        </table>
      </div>

      {dialog?.kind === 'edit' && (
        <EditMemberDialog
          member={dialog.member}
          departments={departments}
          onSaved={(member) => {
            close();
            saved(member, `Saved changes to ${member.displayName}.`);
          }}
          onClose={close}
        />
      )}
      {dialog?.kind === 'verify' && (
        <VerifyMemberDialog
          member={dialog.member}
          onSaved={(member) => {
            close();
            saved(member, `${member.displayName} is now ${verificationLabels[member.verification.level].toLowerCase()}.`);
          }}
          onClose={close}
        />
      )}
      {dialog?.kind === 'reset-mfa' && (
        <ConfirmDialog
          title={`Reset two-step verification for ${dialog.member.displayName}?`}
          confirmLabel="Reset MFA"
          onConfirm={async () => {
            await resetMemberMfa(dialog.member.id);
            reload();
            setDone(`Two-step verification was reset for ${dialog.member.displayName}.`);
          }}
          onClose={close}
        >
          <p>
            This removes their authenticator app, passkeys and recovery codes, and signs them out everywhere. They will have to set up
            two-step verification again at their next sign-in.
          </p>
          <p>Only do this after you have confirmed who is asking, for example in person or by calling them back on a known number.</p>
        </ConfirmDialog>
      )}
      {dialog?.kind === 'disable' && (
        <ConfirmDialog
          title={`Disable ${dialog.member.displayName}?`}
          confirmLabel="Disable account"
          onConfirm={async () => {
            const member = await updateMember(dialog.member.id, { status: 'disabled' });
            saved(member, `${member.displayName} is disabled and can no longer sign in.`);
          }}
          onClose={close}
        >
          <p>They are signed out everywhere and cannot sign in until you enable the account again. Their history is kept.</p>
        </ConfirmDialog>
      )}
    </>
  );
}

interface MemberRowProps {
  member: Member;
  departmentName: string;
  isSelf: boolean;
  onOpen: (kind: OpenDialog['kind']) => void;
  onEnabled: (member: Member) => void;
}

function MemberRow({ member, departmentName, isSelf, onOpen, onEnabled }: MemberRowProps) {
  const [enableError, setEnableError] = useState<unknown>(null);
  const level = member.verification.level;
  const enable = async () => {
    setEnableError(null);
    try {
      onEnabled(await updateMember(member.id, { status: 'active' }));
    } catch (error) {
      setEnableError(error);
    }
  };

  return (
    <tr className={member.status === 'disabled' ? 'row-muted' : undefined}>
      <th scope="row">
        <span className="member-name">
          {member.displayName}
          {isSelf && <span className="muted small"> (you)</span>}
        </span>
        <span className="member-email">{member.email}</span>
      </th>
      <td>{roleLabels[member.role]}</td>
      <td>{departmentName}</td>
      <td>
        <Badge tone={verificationTones[level]}>{verificationLabels[level]}</Badge>
      </td>
      <td>{member.mfaEnrolled ? <Badge tone="success">Yes</Badge> : <Badge tone="warning">No</Badge>}</td>
      <td>{member.status === 'active' ? <Badge tone="success">Active</Badge> : <Badge tone="neutral">Disabled</Badge>}</td>
      <td>
        <div className="row-actions">
          <button type="button" className="button button-secondary button-small" onClick={() => onOpen('edit')} aria-label={`Edit ${member.displayName}`}>
            Edit
          </button>
          <button type="button" className="button button-secondary button-small" onClick={() => onOpen('verify')} aria-label={`Verify ${member.displayName}`}>
            Verify
          </button>
          {!isSelf && (
            <button
              type="button"
              className="button button-secondary button-small"
              onClick={() => onOpen('reset-mfa')}
              aria-label={`Reset MFA for ${member.displayName}`}
            >
              Reset MFA
            </button>
          )}
          {!isSelf &&
            (member.status === 'active' ? (
              <button
                type="button"
                className="button button-danger-quiet button-small"
                onClick={() => onOpen('disable')}
                aria-label={`Disable ${member.displayName}`}
              >
                Disable
              </button>
            ) : (
              <button type="button" className="button button-secondary button-small" onClick={() => void enable()} aria-label={`Enable ${member.displayName}`}>
                Enable
              </button>
            ))}
        </div>
        <ErrorAlert error={enableError} />
      </td>
    </tr>
  );
}
