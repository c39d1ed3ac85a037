import { useEffect, useState } from 'react';
import type { DirectoryEntry } from '@consilium/protocol';
import { searchDirectory } from '../api/messaging';
import { navigate } from '../app/route';
import { useActiveSession } from '../app/active-session';
import { Badge } from '../ui/Badge';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { TextField } from '../ui/fields';
import { roleLabels, verificationLabels, verificationTones } from '../ui/labels';
import { useAction } from '../ui/use-action';
import { useMessenger } from './MessengerProvider';

/** Pick colleagues from the directory; one makes a direct conversation, several a group. */
export function NewConversationDialog({ onClose }: { onClose: () => void }) {
  const messenger = useMessenger();
  const { me } = useActiveSession();
  const [query, setQuery] = useState('');
  const [people, setPeople] = useState<DirectoryEntry[]>([]);
  const [searchError, setSearchError] = useState<unknown>(null);
  const [chosen, setChosen] = useState<DirectoryEntry[]>([]);
  const action = useAction();

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      searchDirectory(query).then(
        (result) => {
          if (!current) return;
          setPeople(result.people.filter((p) => p.accountId !== me.account.id));
          setSearchError(null);
        },
        (error: unknown) => current && setSearchError(error),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, me.account.id]);

  const toggle = (person: DirectoryEntry) =>
    setChosen((list) => (list.some((p) => p.accountId === person.accountId) ? list.filter((p) => p.accountId !== person.accountId) : [...list, person]));

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
        <TextField label="Search colleagues" type="search" value={query} onChange={(e) => setQuery(e.target.value)} data-autofocus autoComplete="off" />
        <ErrorAlert error={searchError ?? action.error} />
        <ul className="list directory-list" aria-label="Colleagues">
          {people.map((person) => {
            const selected = chosen.some((p) => p.accountId === person.accountId);
            return (
              <li key={person.accountId} className="list-row">
                <label className="field-checkbox directory-person">
                  <input type="checkbox" checked={selected} onChange={() => toggle(person)} />
                  <span>
                    {person.displayName} <span className="muted small">{roleLabels[person.role]}</span>{' '}
                    <Badge tone={verificationTones[person.verificationLevel]}>{verificationLabels[person.verificationLevel]}</Badge>
                  </span>
                </label>
              </li>
            );
          })}
          {people.length === 0 && <li className="muted small">No colleagues match.</li>}
        </ul>
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
