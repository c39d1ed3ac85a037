import { useState } from 'react';
import type { DirectoryEntry } from '@consilium/protocol';
import { navigate } from '../app/route';
import { useActiveSession } from '../app/active-session';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { useAction } from '../ui/use-action';
import { DirectoryPicker } from './DirectoryPicker';
import { useMessenger } from './MessengerProvider';

/** Pick colleagues from the directory; one makes a direct conversation, several a group. */
export function NewConversationDialog({ onClose }: { onClose: () => void }) {
  const messenger = useMessenger();
  const { me } = useActiveSession();
  const [chosen, setChosen] = useState<DirectoryEntry[]>([]);
  const action = useAction();

  const start = () =>
    void action.run(async () => {
      if (!messenger) throw new Error('secure messaging is still starting');
      const id = await messenger.createConversation(chosen.map((p) => p.accountId));
      onClose();
      navigate({ name: 'conversation', id });
    });

  return (
    <Dialog title="New conversation" onClose={onClose} description="Choose one colleague for a direct conversation, or several for a group.">
      <div className="stack">
        <DirectoryPicker exclude={[me.account.id]} chosen={chosen} onChange={setChosen} />
        <ErrorAlert error={action.error} />
        <div className="button-row button-row-end">
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="button button-primary" disabled={chosen.length === 0 || action.pending} onClick={start}>
            {action.pending ? 'Starting…' : chosen.length > 1 ? 'Start group conversation' : 'Start conversation'}
          </button>
        </div>
      </div>
    </Dialog>
  );
}
