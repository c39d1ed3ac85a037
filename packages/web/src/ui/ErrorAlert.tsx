import { ApiError } from '../api/client';
import { describeError } from './error-text';

interface ErrorAlertProps {
  error: unknown;
}

/**
 * A live region that is always in the page, so screen readers announce an error as soon as it
 * appears rather than only when focus reaches it.
 */
export function ErrorAlert({ error }: ErrorAlertProps) {
  const issues = error instanceof ApiError ? error.issues : [];
  return (
    <div role="alert" aria-live="assertive" className="alert-region">
      {error ? (
        <div className="alert alert-error">
          <p>{describeError(error)}</p>
          {issues.length > 0 && (
            <ul>
              {issues.map((issue) => (
                <li key={`${issue.path}:${issue.message}`}>
                  {issue.path.replace(/^body\./, '')}: {issue.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}
