import { useState, type FormEvent } from 'react';
import type { CreatedInvite, Department, StaffRole } from '@consilium/protocol';
import { createInvite } from '../api/org';
import { ErrorAlert } from '../ui/ErrorAlert';
import { SelectField, TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { NO_DEPARTMENT, departmentOptions, roleOptions } from './directory';

interface InviteFormProps {
  departments: Department[];
  onCreated: (invite: CreatedInvite) => void;
}

export function InviteForm({ departments, onCreated }: InviteFormProps) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<StaffRole>('clinician');
  const [departmentId, setDepartmentId] = useState(NO_DEPARTMENT);
  const [emailError, setEmailError] = useState<string | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) return setEmailError('Enter their work e-mail address.');
    setEmailError(null);
    await action.run(async () => {
      onCreated(await createInvite({ email: email.trim(), role, departmentId: departmentId || null }));
      setEmail('');
    });
  };

  return (
    <form className="form-grid" onSubmit={(e) => void submit(e)} noValidate>
      <TextField
        label="E-mail"
        type="email"
        autoComplete="off"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={emailError}
      />
      <SelectField label="Role" value={role} options={roleOptions} onChange={(e) => setRole(e.target.value as StaffRole)} />
      <SelectField label="Department" value={departmentId} options={departmentOptions(departments)} onChange={(e) => setDepartmentId(e.target.value)} />
      <div className="form-grid-actions">
        <button type="submit" className="button button-primary" disabled={action.pending}>
          {action.pending ? 'Creating…' : 'Create invitation'}
        </button>
      </div>
      <div className="form-grid-full">
        <ErrorAlert error={action.error} />
      </div>
    </form>
  );
}
