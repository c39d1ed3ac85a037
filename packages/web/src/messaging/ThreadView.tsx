import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from 'react';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatTime } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useMessenger, useMessengerSnapshot } from './MessengerProvider';
import { MessageText } from './MessageText';
import type { ThreadMessage } from './types';
import { AttachButton, AttachmentDraftPanel, draftOf, type AttachmentDraft } from '../attachments/AttachmentDraftPanel';
import { AttachmentView } from '../attachments/AttachmentView';
import { sendAttachment } from '../attachments/vault';
import { MessageExpiryControl } from '../cases/MessageExpiryControl';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { MembersDialog } from './MembersDialog';
import { receiptLabel } from './receipts';
import './messaging.css';

const statusLabel: Record<ThreadMessage['status'], string> = {
  sending: 'Sending…',
  sent: 'Sent',
  failed: 'Not sent',
  received: '',
  undecryptable: '',
};

/** One conversation: its messages (plain text, rendered as text) and the composer. */
/** `renderContent`: shows a message differently (e.g. a case header as a card); null keeps the text. */
export function ThreadView({ conversationId, renderContent }: { conversationId: string; renderContent?: (m: ThreadMessage) => ReactNode }) {
  const messenger = useMessenger();
  const snapshot = useMessengerSnapshot();
  const conversation = snapshot.conversations.find((c) => c.id === conversationId);
  const [draft, setDraft] = useState('');
  const [attachment, setAttachment] = useState<AttachmentDraft | null>(null);
  const [editing, setEditing] = useState<{ key: string; text: string } | null>(null);
  const [showMembers, setShowMembers] = useState(false);
  const [deleting, setDeleting] = useState<ThreadMessage | null>(null);
  const action = useAction();
  const end = useRef<HTMLDivElement>(null);
  const count = conversation?.messages.length ?? 0;

  useEffect(() => {
    document.title = `${conversation?.title ?? 'Conversation'} · Consilium`;
  }, [conversation?.title]);

  useEffect(() => {
    messenger?.setOpenConversation(conversationId);
    return () => messenger?.setOpenConversation(null);
  }, [messenger, conversationId, count]);

  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [count]);

  if (!conversation) {
    return (
      <div className="empty-state empty-state-main">
        <p className="empty-state-title">{snapshot.phase === 'ready' ? 'Conversation not found' : 'Loading conversation…'}</p>
      </div>
    );
  }

  const send = (event?: FormEvent) => {
    event?.preventDefault();
    const text = draft.trim();
    if ((!text && !attachment) || !messenger || action.pending) return;
    const file = attachment;
    void action.run(async () => {
      // Metadata stripped, encrypted and uploaded first; the key then goes inside the MLS message.
      const descriptors = file ? [await sendAttachment(conversationId, file.file, file.edits)] : [];
      setDraft('');
      setAttachment(null);
      await messenger.send(conversationId, text, descriptors);
    });
  };
  const pick = (file: File) => {
    action.setError(null);
    try {
      setAttachment(draftOf(file));
    } catch (error) {
      action.setError(error);
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey) send(event);
  };
  const saveEdit = (event?: FormEvent) => {
    event?.preventDefault();
    const change = editing;
    if (!change || !change.text.trim() || !messenger) return;
    void action.run(async () => {
      await messenger.editMessage(conversationId, change.key, change.text.trim());
      setEditing(null);
    });
  };
  /** Under an own message the server confirmed: how far the others have it (delivered, read, by whom). */
  const receiptOf = (m: ThreadMessage) => (m.own && m.status === 'sent' && m.seq !== null && !m.deleted ? receiptLabel(m.seq, conversation.receipts, conversation.kind) : '');
  const changeable = (m: ThreadMessage) => m.own && m.status === 'sent' && m.seq !== null && !m.deleted && !!messenger && !conversation.removed;

  return (
    <div className="thread">
      <header className="thread-header">
        <h2 className="thread-title">{conversation.title}</h2>
        <p className="muted small">
          {conversation.kind === 'direct' ? 'Direct conversation' : `Group of ${conversation.members.length}`} · end-to-end encrypted ·{' '}
          <button type="button" className="link-button" onClick={() => setShowMembers(true)}>
            Members
          </button>
        </p>
        <MessageExpiryControl key={conversationId} conversationId={conversationId} />
      </header>
      {showMembers && <MembersDialog conversation={conversation} onClose={() => setShowMembers(false)} />}
      {deleting && messenger && (
        <ConfirmDialog title="Delete this message for everyone?" confirmLabel="Delete for everyone" onConfirm={() => messenger.deleteMessage(conversationId, deleting.key)} onClose={() => setDeleting(null)}>
          <p>It is removed from every member's devices and from the server. People who already read it may remember it.</p>
        </ConfirmDialog>
      )}
      <ol className="thread-messages" aria-label="Messages" aria-live="polite">
        {conversation.messages.map((m) => (
          <li key={m.key} className={`message${m.own ? ' message-own' : ''}`} data-status={m.status}>
            {!m.own && <p className="message-sender small">{m.senderName}</p>}
            {m.status === 'undecryptable' ? (
              <p className="message-text muted">This message could not be decrypted on this device.</p>
            ) : m.deleted ? (
              <p className="message-text muted message-deleted">This message was deleted.</p>
            ) : editing?.key === m.key ? (
              <form className="message-edit" onSubmit={saveEdit}>
                <label htmlFor={`edit-${m.key}`} className="visually-hidden">
                  Edit message
                </label>
                <textarea id={`edit-${m.key}`} className="input" rows={2} maxLength={10000} value={editing.text} onChange={(e) => setEditing({ key: m.key, text: e.target.value })} />
                <div className="button-row">
                  <button type="submit" className="button button-primary button-small" disabled={!editing.text.trim() || action.pending}>
                    Save edit
                  </button>
                  <button type="button" className="button button-secondary button-small" onClick={() => setEditing(null)}>
                    Cancel
                  </button>
                </div>
              </form>
            ) : (
              (renderContent?.(m) ?? (m.text && <MessageText text={m.text} />))
            )}
            {!m.deleted && m.attachments?.map((a) => <AttachmentView key={a.blobId} conversationId={conversationId} descriptor={a} />)}
            <p className="message-meta muted small">
              <time dateTime={m.at}>{formatTime(m.at)}</time>
              {m.editedAt && !m.deleted && <span className="message-edited"> · edited</span>}
              {m.own && statusLabel[m.status] && <span className="message-status"> · {statusLabel[m.status]}</span>}
              {receiptOf(m) && <span className="message-receipt"> · {receiptOf(m)}</span>}
              {changeable(m) && editing?.key !== m.key && (
                <>
                  {' · '}
                  <button type="button" className="link-button" onClick={() => setEditing({ key: m.key, text: m.text })}>
                    Edit
                  </button>
                  {' · '}
                  <button type="button" className="link-button" onClick={() => setDeleting(m)}>
                    Delete
                  </button>
                </>
              )}
              {m.own && m.status === 'failed' && messenger && (
                <>
                  {' '}
                  <button type="button" className="link-button" onClick={() => void action.run(() => messenger.retry(conversationId, m.key))}>
                    Retry
                  </button>
                </>
              )}
            </p>
          </li>
        ))}
        {conversation.messages.length === 0 && <li className="muted small thread-empty">No messages yet.</li>}
      </ol>
      <div ref={end} />
      {conversation.removed ? (
        <p className="notice">You were removed from this conversation. Earlier messages stay readable on this device.</p>
      ) : conversation.joined ? (
        <form className="composer" onSubmit={send}>
          {conversation.typing.length > 0 && (
            <p className="typing-indicator muted small" aria-live="polite">
              {conversation.typing.join(', ')} {conversation.typing.length > 1 ? 'are' : 'is'} typing…
            </p>
          )}
          {attachment && <AttachmentDraftPanel draft={attachment} onChange={setAttachment} onRemove={() => setAttachment(null)} />}
          <label htmlFor="composer-text" className="visually-hidden">
            Message
          </label>
          <textarea
            id="composer-text"
            className="input composer-input"
            rows={2}
            value={draft}
            maxLength={10000}
            placeholder="Write a message"
            onChange={(e) => {
              setDraft(e.target.value);
              if (e.target.value.trim()) messenger?.notifyTyping(conversationId);
            }}
            onKeyDown={onKeyDown}
          />
          <AttachButton onPick={pick} disabled={action.pending} />
          <button type="submit" className="button button-primary" disabled={(!draft.trim() && !attachment) || action.pending}>
            Send
          </button>
          <ErrorAlert error={action.error} />
        </form>
      ) : (
        <p className="notice">This device has not been added to the conversation yet.</p>
      )}
    </div>
  );
}
