import { useState, type FormEvent } from 'react';
import type { Department, Member, Role, UpdateMemberBody } from '@consilium/protocol';
import { updateMember } from '../api/org';
import { Dialog } from '../ui/Dialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { SelectField, TextField } from '../ui/fields';
import { useAction } from '../ui/use-action';
import { NO_DEPARTMENT, departmentOptions, roleOptions } from './directory';

interface EditMemberDialogProps {
  member: Member;
  departments: Department[];
  onSaved: (member: Member) => void;
  onClose: () => void;
}

/** Name, role and department of a member; sends only what changed. */
export function EditMemberDialog({ member, departments, onSaved, onClose }: EditMemberDialogProps) {
  const [displayName, setDisplayName] = useState(member.displayName);
  const [role, setRole] = useState<Role>(member.role);
  const [departmentId, setDepartmentId] = useState(member.departmentId ?? NO_DEPARTMENT);
  const [nameError, setNameError] = useState<string | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!displayName.trim()) return setNameError('Enter a name.');
    setNameError(null);
    const changes: UpdateMemberBody = {
      ...(displayName.trim() !== member.displayName && { displayName: displayName.trim() }),
      ...(role !== member.role && role !== 'patient' && { role }),
      ...(departmentId !== (member.departmentId ?? NO_DEPARTMENT) && { departmentId: departmentId || null }),
    };
    if (Object.keys(changes).length === 0) return onClose();
    await action.run(async () => onSaved(await updateMember(member.id, changes)));
  };

  return (
    <Dialog title={`Edit ${member.displayName}`} onClose={onClose} description={member.email}>
      <form className="stack" onSubmit={(e) => void submit(e)} noValidate>
        <TextField label="Display name" value={displayName} maxLength={120} onChange={(e) => setDisplayName(e.target.value)} error={nameError} data-autofocus />
        <SelectField
          label="Role"
          value={role}
          options={roleOptions}
          onChange={(e) => setRole(e.target.value as Role)}
          hint="Administrators manage members and settings; security officers will review audit logs."
        />
        <SelectField label="Department" value={departmentId} options={departmentOptions(departments)} onChange={(e) => setDepartmentId(e.target.value)} />
        <ErrorAlert error={action.error} />
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Saving…' : 'Save changes'}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
