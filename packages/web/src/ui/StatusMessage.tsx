import type { ReactNode } from 'react';

interface StatusMessageProps {
  children?: ReactNode;
  tone?: 'success' | 'info';
}

/** Polite live region for confirmations ("Settings saved") and notices. */
export function StatusMessage({ children, tone = 'info' }: StatusMessageProps) {
  return (
    <div role="status" aria-live="polite" className="alert-region">
      {children ? <div className={`alert alert-${tone}`}>{children}</div> : null}
    </div>
  );
}
