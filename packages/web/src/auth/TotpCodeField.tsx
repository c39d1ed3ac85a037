import { TextField } from '../ui/fields';

/** Authenticator apps show codes as "123 456"; the server wants six digits. */
export const normaliseTotp = (value: string) => value.replace(/[\s-]/g, '');

interface TotpCodeFieldProps {
  value: string;
  onChange: (value: string) => void;
  error?: string | null;
  autoFocus?: boolean;
}

export function TotpCodeField({ value, onChange, error, autoFocus }: TotpCodeFieldProps) {
  return (
    <TextField
      label="Authentication code"
      name="one-time-code"
      inputMode="numeric"
      autoComplete="one-time-code"
      maxLength={7}
      placeholder="123456"
      className="input-code"
      autoFocus={autoFocus}
      value={value}
      onChange={(e) => onChange(e.target.value.replace(/[^\d\s]/g, ''))}
      error={error}
      hint="The 6-digit code from your authenticator app."
    />
  );
}
