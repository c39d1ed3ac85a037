import { CopyButton } from '../ui/CopyButton';

interface RecoveryCodesPanelProps {
  codes: string[];
  onDone: () => void;
}

function download(codes: string[]) {
  const text = `Consilium recovery codes\nEach code works once. Keep them private.\n\n${codes.join('\n')}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = 'consilium-recovery-codes.txt';
  link.click();
  // Give the download a moment to start before the URL stops existing.
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Shows freshly issued recovery codes, once: the server keeps only their hashes. */
export function RecoveryCodesPanel({ codes, onDone }: RecoveryCodesPanelProps) {
  return (
    <div className="stack">
      <p>
        If you lose your phone or passkey, each of these codes lets you sign in once. Store them somewhere safe, such as a password
        manager. <strong>They will not be shown again.</strong>
      </p>
      <ol className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <div className="button-row">
        <CopyButton text={codes.join('\n')} label="Copy codes" />
        <button type="button" className="button button-secondary" onClick={() => download(codes)}>
          Download as text file
        </button>
      </div>
      <div className="button-row button-row-end">
        <button type="button" className="button button-primary" onClick={onDone}>
          I have saved these codes
        </button>
      </div>
    </div>
  );
}
