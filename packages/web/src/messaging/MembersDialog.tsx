import { useState, type FormEvent } from 'react';
import type { DirectoryEntry } from '@consilium/protocol';
import { MAX_CONVERSATION_TITLE } from '@consilium/protocol';
import { navigate } from '../app/route';
import { useActiveSession } from '../app/active-session';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { DirectoryPicker } from './DirectoryPicker';
import { useMessenger } from './MessengerProvider';
import type { ConversationSummary } from './types';

/**
 * The members of a conversation. Admins of a group rename it, add colleagues (all their devices
 * join with one MLS commit from this device) and remove people (all their leaves are removed);
 * anyone may leave a group.
 */
export function MembersDialog({ conversation, onClose }: { conversation: ConversationSummary; onClose: () => void }) {
  const messenger = useMessenger();
  const { me } = useActiveSession();
  const [adding, setAdding] = useState<DirectoryEntry[]>([]);
  const [title, setTitle] = useState(conversation.customTitle ?? '');
  const [confirmLeave, setConfirmLeave] = useState(false);
  const action = useAction();
  const group = conversation.kind === 'group';
  const manage = group && conversation.admin;

  const run = (work: (m: NonNullable<typeof messenger>) => Promise<void>) =>
    void action.run(async () => {
      if (!messenger) throw new Error('secure messaging is still starting');
      await work(messenger);
    });

  const rename = (event: FormEvent) => {
    event.preventDefault();
    run((m) => m.rename(conversation.id, title.trim() || null));
  };

  return (
    <Dialog title="Members" onClose={onClose} description={`${conversation.members.length} people · end-to-end encrypted`}>
      <div className="stack">
        {manage && (
          <form className="members-rename" onSubmit={rename}>
            <TextField label="Group name" value={title} maxLength={MAX_CONVERSATION_TITLE} onChange={(e) => setTitle(e.target.value)} placeholder="The members' names" />
            <button type="submit" className="button button-secondary button-small" disabled={action.pending}>
              Save name
            </button>
          </form>
        )}
        <ul className="list" aria-label="Conversation members">
          {conversation.members.map((member) => (
            <li key={member.accountId} className="list-row members-row">
              <span>
                {member.accountId === me.account.id ? 'You' : member.displayName}
                {member.role === 'admin' && <span className="muted small"> · admin</span>}
              </span>
              {manage && member.accountId !== me.account.id && (
                <button type="button" className="link-button" onClick={() => run((m) => m.removeMember(conversation.id, member.accountId))} disabled={action.pending}>
                  Remove {member.displayName}
                </button>
              )}
            </li>
          ))}
        </ul>
        {manage && (
          <section className="stack" aria-label="Add people">
            <DirectoryPicker label="Add colleagues" exclude={conversation.members.map((m) => m.accountId)} chosen={adding} onChange={setAdding} />
            <button
              type="button"
              className="button button-primary"
              disabled={adding.length === 0 || action.pending}
              onClick={() =>
                run(async (m) => {
                  await m.addMembers(conversation.id, adding.map((p) => p.accountId));
                  setAdding([]);
                })
              }
            >
              {adding.length > 1 ? `Add ${adding.length} people` : 'Add to conversation'}
            </button>
          </section>
        )}
        <ErrorAlert error={action.error} />
        <div className="button-row button-row-end">
          {group &&
            (confirmLeave ? (
              <button
                type="button"
                className="button button-danger"
                disabled={action.pending}
                onClick={() =>
                  run(async (m) => {
                    await m.leave(conversation.id);
                    onClose();
                    navigate({ name: 'home' });
                  })
                }
              >
                Leave for good
              </button>
            ) : (
              <button type="button" className="button button-secondary" onClick={() => setConfirmLeave(true)}>
                Leave conversation
              </button>
            ))}
          <button type="button" className="button button-secondary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}
