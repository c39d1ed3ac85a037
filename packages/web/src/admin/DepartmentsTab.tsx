import { useState, type FormEvent } from 'react';
import { createDepartment, listDepartments } from '../api/org';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusMessage } from '../ui/StatusMessage';
import { TextField } from '../ui/fields';
import { formatDate } from '../ui/format';
import { useAction } from '../ui/use-action';
import { useLoaded } from '../ui/use-loaded';

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
      <section className="card" aria-labelledby="new-department-heading">
        <h2 id="new-department-heading" className="card-title">
          Add a department
        </h2>
        <form className="inline-form" onSubmit={(e) => void submit(e)} noValidate>
          <TextField label="Department name" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} error={nameError} />
          <button type="submit" className="button button-primary" disabled={action.pending}>
            {action.pending ? 'Adding…' : 'Add department'}
          </button>
        </form>
        <ErrorAlert error={action.error} />
        <StatusMessage tone="success">{added}</StatusMessage>
      </section>

      <section aria-labelledby="departments-heading">
        <h2 id="departments-heading" className="section-title">
          Departments
        </h2>
        {departments.status === 'loading' && <p className="muted">Loading departments…</p>}
        {departments.status === 'failed' && <ErrorAlert error={departments.error} />}
        {departments.status === 'ready' &&
          (departments.data.departments.length === 0 ? (
            <p className="muted">No departments yet.</p>
          ) : (
            <ul className="list list-card">
              {[...departments.data.departments]
                .sort((a, b) => a.name.localeCompare(b.name))
                .map((department) => (
                  <li key={department.id} className="list-row">
                    <span className="list-row-title">{department.name}</span>
                    <span className="muted small">Added {formatDate(department.createdAt)}</span>
                  </li>
                ))}
            </ul>
          ))}
      </section>
    </div>
  );
}
