import { useEffect, useState } from 'react';
import type { AuditEntryList, AuditListedEntry, Member } from '@consilium/protocol';
import { auditExportHref, searchAudit, type AuditFilter } from '../api/audit';
import { ErrorAlert } from '../ui/ErrorAlert';
import { AuditEntryTable } from './AuditEntryTable';
import { AuditFilters } from './AuditFilters';
import type { People } from './people';

const PAGE_SIZE = 50;

interface Page {
  filter: AuditFilter;
  /** Show entries below this index; undefined for the newest. */
  before: number | undefined;
  /** The `before` of each newer page, to step back with "Newer". */
  newer: (number | undefined)[];
  /** Bumped to ask again for the same page. */
  generation: number;
}

type Results = { status: 'loading'; shown: AuditEntryList | null } | { status: 'failed'; error: unknown } | { status: 'ready'; data: AuditEntryList };

interface AuditEntriesProps {
  members: readonly Member[] | null;
  people: People;
  onOpen: (entry: AuditListedEntry) => void;
}

function describePage(list: AuditEntryList, newest: boolean): string {
  const { entries } = list;
  const first = entries[0];
  const last = entries[entries.length - 1];
  if (!first || !last) return 'No entries match this search.';
  const count = `${entries.length} matching ${entries.length === 1 ? 'entry' : 'entries'}`;
  return `${newest ? 'Newest' : 'Older'} ${count}: #${first.index} to #${last.index}.`;
}

/** Search, one page of results at a time (newest first), and exports of the same time range and case. */
export function AuditEntries({ members, people, onOpen }: AuditEntriesProps) {
  const [page, setPage] = useState<Page>({ filter: {}, before: undefined, newer: [], generation: 0 });
  const [results, setResults] = useState<Results>({ status: 'loading', shown: null });

  useEffect(() => {
    let current = true;
    // Keep the previous page on screen while the next one loads, so the table does not jump.
    setResults((previous) => ({ status: 'loading', shown: previous.status === 'ready' ? previous.data : null }));
    searchAudit(page.filter, { before: page.before, limit: PAGE_SIZE }).then(
      (data) => current && setResults({ status: 'ready', data }),
      (error: unknown) => current && setResults({ status: 'failed', error }),
    );
    return () => {
      current = false;
    };
  }, [page]);

  const loading = results.status === 'loading';
  const list = results.status === 'ready' ? results.data : results.status === 'loading' ? results.shown : null;
  const nextBefore = results.status === 'ready' ? results.data.nextBefore : null;

  const apply = (filter: AuditFilter) => setPage((p) => ({ filter, before: undefined, newer: [], generation: p.generation + 1 }));
  const older = () => nextBefore !== null && setPage((p) => ({ ...p, before: nextBefore, newer: [...p.newer, p.before] }));
  const newer = () => setPage((p) => ({ ...p, before: p.newer[p.newer.length - 1], newer: p.newer.slice(0, -1) }));

  return (
    <section className="stack" aria-labelledby="audit-entries-heading">
      <div className="audit-entries-header">
        <h2 id="audit-entries-heading" className="section-title">
          Entries
        </h2>
        <div className="button-row">
          <a className="button button-secondary button-small" href={auditExportHref('csv', page.filter)} download>
            Export CSV
          </a>
          <a className="button button-secondary button-small" href={auditExportHref('fhir', page.filter)} download>
            Export FHIR
          </a>
        </div>
      </div>
      <p className="muted small">
        Exports hold every entry in the searched time range and case, oldest first: CSV, or a FHIR R4 Bundle of AuditEvents. The event and
        person filters narrow the table only.
      </p>
      <AuditFilters members={members} pending={loading} onApply={apply} />

      {results.status === 'failed' && <ErrorAlert error={results.error} />}
      <p className="muted small" role="status" aria-live="polite">
        {loading ? 'Loading entries…' : list ? describePage(list, page.before === undefined) : ''}
      </p>
      {list && list.entries.length > 0 && <AuditEntryTable entries={list.entries} people={people} onOpen={onOpen} />}
      {list && (page.newer.length > 0 || list.nextBefore !== null) && (
        <nav className="button-row audit-paging" aria-label="Pages of entries">
          <button type="button" className="button button-secondary" onClick={newer} disabled={loading || page.newer.length === 0}>
            Newer
          </button>
          <button type="button" className="button button-secondary" onClick={older} disabled={loading || nextBefore === null}>
            Older
          </button>
        </nav>
      )}
    </section>
  );
}
