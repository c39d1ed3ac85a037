import { useEffect, useState, type FormEvent } from 'react';
import QRCode from 'qrcode';
import type { TotpSetup } from '@consilium/protocol';
import { beginTotpSetup, confirmTotpSetup } from '../api/me';
import { CopyButton } from '../ui/CopyButton';
import { ErrorAlert } from '../ui/ErrorAlert';
import { useAction } from '../ui/use-action';
import { TotpCodeField, normaliseTotp } from './TotpCodeField';

interface TotpEnrolmentProps {
  /** Called with the recovery codes the server issued (empty when the account already had some). */
  onEnrolled: (recoveryCodes: string[]) => void;
  onCancel?: () => void;
}

type Pending = { status: 'loading' } | { status: 'failed'; error: unknown } | { status: 'ready'; setup: TotpSetup; qrDataUrl: string };

async function startSetup(): Promise<{ setup: TotpSetup; qrDataUrl: string }> {
  const setup = await beginTotpSetup();
  // An SVG data URL: no canvas, and the CSP allows data: images.
  const svg = await QRCode.toString(setup.otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { setup, qrDataUrl: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` };
}

/** Adds an authenticator app: QR code and key, then a code from the app to prove it works. */
export function TotpEnrolment({ onEnrolled, onCancel }: TotpEnrolmentProps) {
  const [pending, setPending] = useState<Pending>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [code, setCode] = useState('');
  const [fieldError, setFieldError] = useState<string | null>(null);
  const action = useAction();

  useEffect(() => {
    let current = true;
    setPending({ status: 'loading' });
    startSetup().then(
      (ready) => current && setPending({ status: 'ready', ...ready }),
      (error: unknown) => current && setPending({ status: 'failed', error }),
    );
    return () => {
      current = false;
    };
  }, [attempt]);

  const confirm = async (event: FormEvent) => {
    event.preventDefault();
    const totp = normaliseTotp(code);
    if (!/^\d{6}$/.test(totp)) return setFieldError('Enter the 6-digit code your authenticator app shows now.');
    setFieldError(null);
    await action.run(async () => {
      const { recoveryCodes } = await confirmTotpSetup({ code: totp });
      onEnrolled(recoveryCodes);
    });
  };

  if (pending.status === 'loading') {
    return (
      <p className="muted" role="status">
        Preparing your authenticator setup…
      </p>
    );
  }
  if (pending.status === 'failed') {
    return (
      <div className="stack">
        <ErrorAlert error={pending.error} />
        <div className="button-row">
          <button type="button" className="button button-secondary" onClick={() => setAttempt((a) => a + 1)}>
            Try again
          </button>
          {onCancel && (
            <button type="button" className="button button-secondary" onClick={onCancel}>
              Cancel
            </button>
          )}
        </div>
      </div>
    );
  }

  const { setup, qrDataUrl } = pending;
  return (
    <div className="totp-enrolment">
      <ol className="steps">
        <li>
          <h3 className="step-title">Scan the QR code</h3>
          <p>Open an authenticator app (such as Microsoft Authenticator, Google Authenticator or FreeOTP) and scan this code.</p>
          <img className="qr-code" src={qrDataUrl} width={192} height={192} alt="QR code to add Consilium to your authenticator app" />
          <p className="muted">Cannot scan it? Enter this key in the app instead:</p>
          <div className="secret-row">
            <code className="secret" data-testid="totp-secret">
              {setup.secret}
            </code>
            <CopyButton text={setup.secret} label="Copy key" />
          </div>
        </li>
        <li>
          <h3 className="step-title">Enter the code from the app</h3>
          <form className="stack" onSubmit={(e) => void confirm(e)} noValidate>
            <TotpCodeField value={code} onChange={setCode} error={fieldError} />
            <ErrorAlert error={action.error} />
            <div className="button-row">
              <button type="submit" className="button button-primary" disabled={action.pending}>
                {action.pending ? 'Checking…' : 'Confirm'}
              </button>
              {onCancel && (
                <button type="button" className="button button-secondary" onClick={onCancel}>
                  Cancel
                </button>
              )}
            </div>
          </form>
        </li>
      </ol>
    </div>
  );
}
