import { listDepartments } from '../api/org';
import { useActiveSession } from '../app/active-session';
import { Badge } from '../ui/Badge';
import { roleLabels, verificationLabels, verificationTones } from '../ui/labels';
import { useLoaded } from '../ui/use-loaded';

const verificationExplained = {
  unverified: 'An administrator has not yet confirmed who you are. Until then you cannot be added to patient conversations.',
  identity_verified: 'An administrator has confirmed your identity.',
  licence_verified: 'An administrator has confirmed your identity and your professional registration.',
} as const;

export function AccountSection() {
  const { me } = useActiveSession();
  const [departments] = useLoaded(listDepartments);
  const departmentName =
    me.account.departmentId === null
      ? 'None'
      : departments.status === 'ready'
        ? (departments.data.departments.find((d) => d.id === me.account.departmentId)?.name ?? 'Unknown')
        : '…';

  return (
    <section className="card" aria-labelledby="account-heading">
      <h2 id="account-heading" className="card-title">
        Account
      </h2>
      <dl className="details">
        <div>
          <dt>Name</dt>
          <dd>{me.account.displayName}</dd>
        </div>
        <div>
          <dt>E-mail</dt>
          <dd>{me.account.email}</dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>{roleLabels[me.account.role]}</dd>
        </div>
        <div>
          <dt>Department</dt>
          <dd>{departmentName}</dd>
        </div>
        <div>
          <dt>Organisation</dt>
          <dd>{me.organisation.name}</dd>
        </div>
        <div>
          <dt>Verification</dt>
          <dd>
            <Badge tone={verificationTones[me.account.verificationLevel]}>{verificationLabels[me.account.verificationLevel]}</Badge>
            <span className="details-note">{verificationExplained[me.account.verificationLevel]}</span>
          </dd>
        </div>
      </dl>
    </section>
  );
}
