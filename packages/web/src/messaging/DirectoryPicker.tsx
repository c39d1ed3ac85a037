import { useEffect, useState } from 'react';
import type { DirectoryEntry } from '@consilium/protocol';
import { searchDirectory } from '../api/messaging';
import { Badge } from '../ui/Badge';
import { ErrorAlert } from '../ui/ErrorAlert';
import { TextField } from '../ui/fields';
import { roleLabels, verificationLabels, verificationTones } from '../ui/labels';

/**
 * Searches the organisation's directory (the server lists only active colleagues of the caller's
 * organisation, verified ones first) and lets the user tick people, with their verification badge.
 */
export function DirectoryPicker({
  exclude,
  chosen,
  onChange,
  label = 'Search colleagues',
}: {
  /** Account ids not offered (the user, current members). */
  exclude: readonly string[];
  chosen: DirectoryEntry[];
  onChange: (chosen: DirectoryEntry[]) => void;
  label?: string;
}) {
  const [query, setQuery] = useState('');
  const [people, setPeople] = useState<DirectoryEntry[]>([]);
  const [searchError, setSearchError] = useState<unknown>(null);
  const excluded = exclude.join(',');

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      searchDirectory(query).then(
        (result) => {
          if (!current) return;
          const skip = new Set(excluded.split(','));
          setPeople(result.people.filter((p) => !skip.has(p.accountId)));
          setSearchError(null);
        },
        (error: unknown) => current && setSearchError(error),
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, excluded]);

  const toggle = (person: DirectoryEntry) =>
    onChange(chosen.some((p) => p.accountId === person.accountId) ? chosen.filter((p) => p.accountId !== person.accountId) : [...chosen, person]);

  return (
    <>
      <TextField label={label} type="search" value={query} onChange={(e) => setQuery(e.target.value)} data-autofocus autoComplete="off" />
      <ErrorAlert error={searchError} />
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
                  {/* A colleague of a connected organisation: say whose. */}
                  {person.organisation && <span className="muted small"> · {person.organisation.name}</span>}
                </span>
              </label>
            </li>
          );
        })}
        {people.length === 0 && <li className="muted small">No colleagues match.</li>}
      </ul>
    </>
  );
}
