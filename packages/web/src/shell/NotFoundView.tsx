import { PageHeading } from '../ui/PageHeading';

export function NotFoundView({ reason }: { reason: 'missing' | 'forbidden' }) {
  return (
    <section className="page">
      <PageHeading>{reason === 'forbidden' ? 'Not available' : 'Page not found'}</PageHeading>
      <p>{reason === 'forbidden' ? 'This area is for administrators of your organisation.' : 'There is nothing at this address.'}</p>
      <p>
        <a href="#/">Back to conversations</a>
      </p>
    </section>
  );
}
