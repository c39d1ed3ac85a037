import type { BackupRunSummary, BackupStatus } from '@consilium/protocol';
import { Badge, type BadgeTone } from '../../ui/Badge';
import { ErrorAlert } from '../../ui/ErrorAlert';
import { formatDateTime } from '../../ui/format';
import { useLoaded } from '../../ui/use-loaded';
import { getBackupStatus } from './backups-api';

const seconds = (ms: number | null) => (ms === null ? '–' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
const size = (bytes: number) => (bytes < 1048576 ? `${(bytes / 1024).toFixed(0)} KiB` : bytes < 1073741824 ? `${(bytes / 1048576).toFixed(1)} MiB` : `${(bytes / 1073741824).toFixed(2)} GiB`);
const kindLabel: Record<BackupRunSummary['kind'], string> = { backup: 'Backup', verify: 'Verify', drill: 'Restore drill' };
const outcomeTone: Record<BackupRunSummary['outcome'], BadgeTone> = { success: 'success', failure: 'danger', running: 'warning' };
const ruleLabels: Record<keyof BackupStatus['rule'], string> = { copies: '3 copies', media: '2 media', offsite: '1 off-site', immutable: '1 immutable', errors: '0 errors' };

function LastRun({ title, run, extra }: { title: string; run: BackupRunSummary | null; extra?: (run: BackupRunSummary) => string }) {
  return (
    <section className="card" aria-label={title}>
      <h2 className="card-title">{title}</h2>
      {run ? (
        <>
          <p>
            <Badge tone={outcomeTone[run.outcome]}>{run.outcome}</Badge> {formatDateTime(run.startedAt)}
          </p>
          <p className="muted small">
            {run.seq !== null && `Snapshot ${run.seq}. `}
            {extra ? extra(run) : `Took ${seconds(run.durationMs)}.`}
            {run.problems > 0 && ` ${run.problems} problem${run.problems === 1 ? '' : 's'}.`}
          </p>
          {run.error && <p className="small">{run.error}</p>}
        </>
      ) : (
        <p>
          <Badge tone="danger">never</Badge>
        </p>
      )}
    </section>
  );
}

/**
 * The Backups page: is there a recent, verified, restorable copy, and does the setup meet
 * 3-2-1-1-0? Shortfalls are red. It shows state only: the server holds no key that could read a
 * backup, so restores and drills with data happen where the identities are (the CLI).
 */
export function BackupsPanel() {
  const [status] = useLoaded(getBackupStatus);
  if (status.status === 'loading') return <p className="muted">Loading backups…</p>;
  if (status.status === 'failed') return <ErrorAlert error={status.error} />;
  const s = status.data;
  // The newest drill that finished (the newest one may still be running).
  const drill = s.lastDrill?.checks ? s.lastDrill : (s.history.find((h) => h.kind === 'drill' && h.checks) ?? null);
  return (
    <div className="stack-large">
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(14rem, 1fr))', gap: '0.75rem' }}>
        <LastRun title="Last backup" run={s.lastBackup} extra={(r) => `${r.files} files, ${size(r.bytesTotal)} (${size(r.bytesWritten)} new) in ${seconds(r.durationMs)}.`} />
        <LastRun title="Last verify" run={s.lastVerify} extra={(r) => `${r.mode ?? 'structure'} check in ${seconds(r.durationMs)}.`} />
        <LastRun title="Last restore drill" run={s.lastDrill} extra={(r) => `Restored in ${seconds(r.restoreMs)}, ${seconds(r.durationMs)} in all.`} />
      </div>

      <section aria-labelledby="rule-heading">
        <h2 id="rule-heading" className="section-title">
          3-2-1-1-0 at a glance
        </h2>
        <ul className="list list-card">
          {(Object.keys(ruleLabels) as (keyof BackupStatus['rule'])[]).map((k) => (
            <li key={k} className="list-row">
              <span className="list-row-title">
                <Badge tone={s.rule[k].ok ? 'success' : 'danger'}>{s.rule[k].ok ? 'met' : 'short'}</Badge> {ruleLabels[k]}
              </span>
              <span className="muted small">
                {s.rule[k].have} of {s.rule[k].need} · {s.rule[k].note}
              </span>
            </li>
          ))}
        </ul>
        <p className="muted small">
          Backups: {s.schedule ?? 'off'} · restore drills: {s.drillSchedule ?? 'not run by this server (run them where the identity is)'} · {s.recipients} age recipients · manifests signed by{' '}
          <code>{s.verifierKey}</code>
        </p>
      </section>

      {drill?.checks && (
        <section aria-labelledby="drill-heading">
          <h2 id="drill-heading" className="section-title">
            Last restore drill report: {drill.outcome === 'success' ? 'passed' : 'failed'}
          </h2>
          <p className="muted small">
            {formatDateTime(drill.startedAt)} · snapshot {drill.seq ?? '–'} on {drill.target} · restored in {seconds(drill.restoreMs)}, {seconds(drill.durationMs)} in all. The full report (Markdown, HTML, JSON) is in the server's backup-reports directory:
            evidence for HIPAA 164.308(a)(7)(ii)(D).
          </p>
          <ul className="list list-card" aria-label="Restore checks">
            {drill.checks.map((c) => (
              <li key={c.name} className="list-row">
                <span className="list-row-title">
                  <Badge tone={c.ok ? 'success' : 'danger'}>{c.ok ? 'ok' : 'failed'}</Badge> {c.name}
                </span>
                <span className="muted small">{c.detail}</span>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="targets-heading">
        <h2 id="targets-heading" className="section-title">
          Targets
        </h2>
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Where</th>
                <th scope="col">Medium</th>
                <th scope="col">Off-site</th>
                <th scope="col">Immutable</th>
                <th scope="col">Latest snapshot</th>
              </tr>
            </thead>
            <tbody>
              {s.targets.map((t) => (
                <tr key={t.name}>
                  <th scope="row">{t.name}</th>
                  <td>
                    {t.type} <code>{t.location}</code>
                  </td>
                  <td>{t.medium}</td>
                  <td>{t.offsite ? 'yes' : <Badge tone="danger">no</Badge>}</td>
                  <td>{t.immutable ? 'yes' : <Badge tone="danger">no</Badge>}</td>
                  <td>{t.latestSeq === null ? <Badge tone="danger">none</Badge> : `${t.latestSeq}${t.lastBackupAt ? `, ${formatDateTime(t.lastBackupAt)}` : ''}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="history-heading">
        <h2 id="history-heading" className="section-title">
          History
        </h2>
        {s.history.length === 0 ? (
          <p className="muted">No backup has run yet.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">What</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Snapshot</th>
                  <th scope="col">Size</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {s.history.map((r) => (
                  <tr key={r.id}>
                    <td className="nowrap">{formatDateTime(r.startedAt)}</td>
                    <td>{kindLabel[r.kind]}{r.mode ? ` (${r.mode})` : ''}</td>
                    <td>{r.target}</td>
                    <td>
                      <Badge tone={outcomeTone[r.outcome]}>{r.outcome}</Badge>
                      {r.problems > 0 && ` ${r.problems}`}
                    </td>
                    <td>{r.seq ?? '–'}</td>
                    <td>{r.bytesTotal ? size(r.bytesTotal) : '–'}</td>
                    <td>{r.kind === 'drill' ? `${seconds(r.restoreMs)} restore` : seconds(r.durationMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
