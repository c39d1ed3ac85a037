import type { FormEvent, ReactNode } from 'react';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusMessage } from '../ui/StatusMessage';
import type { Loaded } from '../ui/use-loaded';

/**
 * The card on top of an admin tab that adds one thing with a one-line form: its heading, what
 * `children` put before the form, the form's `field` and submit button, then the action's error
 * and `notice` (a success message).
 */
export function AddCard({
  headingId,
  title,
  field,
  submitLabel,
  pendingLabel,
  pending,
  error,
  notice,
  onSubmit,
  children,
}: {
  headingId: string;
  title: string;
  field: ReactNode;
  submitLabel: string;
  pendingLabel: string;
  pending: boolean;
  error: unknown;
  notice: string | null;
  onSubmit: (event: FormEvent) => Promise<void>;
  children?: ReactNode;
}) {
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId} className="card-title">
        {title}
      </h2>
      {children}
      <form className="inline-form" onSubmit={(e) => void onSubmit(e)} noValidate>
        {field}
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? pendingLabel : submitLabel}
        </button>
      </form>
      <ErrorAlert error={error} />
      <StatusMessage tone="success">{notice}</StatusMessage>
    </section>
  );
}

/**
 * An admin tab's list of what it loaded: a line while loading, the error if loading failed,
 * `empty` when there is nothing, else one row per item.
 */
export function ListSection<T, Item>({
  headingId,
  title,
  loaded,
  items,
  loadingText,
  emptyText,
  row,
}: {
  headingId: string;
  title: string;
  loaded: Loaded<T>;
  items: (data: T) => Item[];
  loadingText: string;
  emptyText: string;
  row: (item: Item) => ReactNode;
}) {
  const list = loaded.status === 'ready' ? items(loaded.data) : [];
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId} className="section-title">
        {title}
      </h2>
      {loaded.status === 'loading' && <p className="muted">{loadingText}</p>}
      {loaded.status === 'failed' && <ErrorAlert error={loaded.error} />}
      {loaded.status === 'ready' && (list.length === 0 ? <p className="muted">{emptyText}</p> : <ul className="list list-card">{list.map(row)}</ul>)}
    </section>
  );
}
