import type { ReactNode } from 'react';
import { Dialog } from './Dialog';
import { ErrorAlert } from './ErrorAlert';
import { useAction } from './use-action';

interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  tone?: 'danger' | 'primary';
  onConfirm: () => Promise<void>;
  onClose: () => void;
}

/** Asks before an action that cannot be undone; shows the server's refusal in place. */
export function ConfirmDialog({ title, children, confirmLabel, tone = 'danger', onConfirm, onClose }: ConfirmDialogProps) {
  const action = useAction();
  const confirm = async () => {
    if (await action.run(onConfirm)) onClose();
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <div className="stack">
        {children}
        <ErrorAlert error={action.error} />
        <div className="button-row">
          <button type="button" className={`button button-${tone}`} onClick={() => void confirm()} disabled={action.pending}>
            {action.pending ? 'Working…' : confirmLabel}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} data-autofocus>
            Cancel
          </button>
        </div>
      </div>
    </Dialog>
  );
}
