import { useState, type FormEvent } from 'react';
import { createDepartment, listDepartments } from '../api/org';
import { TextField } from '../ui/fields';
import { formatDate } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';
import { AddCard, ListSection } from './TabSections';

export function DepartmentsTab() {
  const [departments, reload] = useLoaded(listDepartments);
  const [name, setName] = useState('');
  const [nameError, setNameError] = useState<string | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setAdded(null);
    if (!name.trim()) return setNameError('Enter a name for the department.');
    setNameError(null);
    await action.run(async () => {
      const department = await createDepartment({ name: name.trim() });
      setName('');
      setAdded(`Added ${department.name}.`);
      reload();
    });
  };

  return (
    <div className="stack-large">
      <AddCard
        headingId="new-department-heading"
        title="Add a department"
        field={<TextField label="Department name" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} error={nameError} />}
        submitLabel="Add department"
        pendingLabel="Adding…"
        pending={action.pending}
        error={action.error}
        notice={added}
        onSubmit={submit}
      />
      <ListSection
        headingId="departments-heading"
        title="Departments"
        loaded={departments}
        items={(data) => [...data.departments].sort((a, b) => a.name.localeCompare(b.name))}
        loadingText="Loading departments…"
        emptyText="No departments yet."
        row={(department) => (
          <li key={department.id} className="list-row">
            <span className="list-row-title">{department.name}</span>
            <span className="muted small">Added {formatDate(department.createdAt)}</span>
          </li>
        )}
      />
    </div>
  );
}
