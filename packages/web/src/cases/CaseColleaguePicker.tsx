import { useEffect, useState } from 'react';
import type { DirectoryEntry } from '@consilium/protocol';
import { searchDirectory } from '../api/messaging';
import { useActiveSession } from '../app/active-session';
import { Badge } from '../ui/Badge';
import { ErrorAlert } from '../ui/ErrorAlert';
import { TextField } from '../ui/fields';
import { verificationLabels, verificationTones } from '../ui/labels';

/**
 * "Add a colleague" in the new-consult form: people besides the on-call chain (a resident on the
 * ward, the GP trainee) join the case. Only verified professionals may see patient content, so
 * unverified colleagues are listed but cannot be chosen (the server refuses them too).
 */
export function CaseColleaguePicker({ chosen, onChange }: { chosen: DirectoryEntry[]; onChange: (chosen: DirectoryEntry[]) => void }) {
  const { me } = useActiveSession();
  const [query, setQuery] = useState('');
  const [people, setPeople] = useState<DirectoryEntry[]>([]);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!query.trim()) {
      setPeople([]);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      searchDirectory(query).then(
        (result) => {
          if (!current) return;
          setPeople(result.people.filter((p) => p.accountId !== me.account.id && p.role !== 'patient'));
          setError(null);
        },
        (e: unknown) => current && setError(e),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, me.account.id]);

  const isChosen = (p: DirectoryEntry) => chosen.some((c) => c.accountId === p.accountId);
  const toggle = (p: DirectoryEntry) => onChange(isChosen(p) ? chosen.filter((c) => c.accountId !== p.accountId) : [...chosen, p]);

  return (
    <div className="stack case-colleagues">
      {chosen.length > 0 && (
        <ul className="case-colleagues-chosen small" aria-label="Colleagues added">
          {chosen.map((p) => (
            <li key={p.accountId}>
              {p.displayName}{' '}
              <button type="button" className="link-button" onClick={() => toggle(p)} aria-label={`Remove ${p.displayName}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <TextField
        label="Add a colleague (optional)"
        type="search"
        value={query}
        autoComplete="off"
        onChange={(e) => setQuery(e.target.value)}
        hint="Besides whoever is on call: for example the resident who will act on the advice."
      />
      <ErrorAlert error={error} />
      {query.trim() && (
        <ul className="list directory-list" aria-label="Matching colleagues">
          {people.map((p) => {
            const verified = p.verificationLevel !== 'unverified';
            return (
              <li key={p.accountId} className="list-row">
                <label className="field-checkbox directory-person">
                  <input type="checkbox" checked={isChosen(p)} disabled={!verified && !isChosen(p)} onChange={() => toggle(p)} />
                  <span>
                    {p.displayName} <Badge tone={verificationTones[p.verificationLevel]}>{verificationLabels[p.verificationLevel]}</Badge>
                    {!verified && <span className="muted small"> cannot join patient cases until verified</span>}
                  </span>
                </label>
              </li>
            );
          })}
          {people.length === 0 && <li className="muted small">No colleagues match.</li>}
        </ul>
      )}
    </div>
  );
}
