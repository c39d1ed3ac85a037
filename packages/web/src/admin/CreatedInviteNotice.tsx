import { useEffect, useId, useRef } from 'react';
import { INVITE_TTL_HOURS, type CreatedInvite } from '@consilium/protocol';
import { CopyButton } from '../ui/CopyButton';
import { formatDateTime } from '../ui/format';
import { roleLabels } from '../ui/labels';

/** The invitation link, shown this once: the server keeps only a hash of its token. */
export function CreatedInviteNotice({ invite, onDismiss }: { invite: CreatedInvite; onDismiss: () => void }) {
  const linkId = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), [invite]);

  return (
    <div ref={ref} className="created-invite" tabIndex={-1} role="region" aria-label="Invitation created">
      <p className="created-invite-title">
        Invitation created for {invite.invite.email} ({roleLabels[invite.invite.role]})
      </p>
      <p>
        Send this link to them through a channel you trust. It works once and expires in {INVITE_TTL_HOURS} h, on{' '}
        {formatDateTime(invite.invite.expiresAt)}. <strong>It will not be shown again.</strong>
      </p>
      <label htmlFor={linkId} className="visually-hidden">
        Invitation link
      </label>
      <div className="secret-row">
        <input id={linkId} className="input input-code" readOnly value={invite.inviteUrl} onFocus={(e) => e.target.select()} />
        <CopyButton text={invite.inviteUrl} label="Copy link" />
      </div>
      <button type="button" className="link-button" onClick={onDismiss}>
        Done
      </button>
    </div>
  );
}
