import type { RestoreCheck } from './checks.js';

/** What a restore drill found: the evidence HIPAA 164.308(a)(7)(ii)(D) asks for (testing and revision of contingency plans). */
export interface DrillReport {
  format: 'consilium-backup-drill/v1';
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  host: string;
  target: string;
  snapshot: { id: string; seq: number; createdAt: string; manifestHash: string; database: 'sqlite' | 'postgres' } | null;
  /** Time to restore (decrypt, check and write every object; pg_restore for PostgreSQL). */
  restoreMs: number;
  checksMs: number;
  totalMs: number;
  files: number;
  bytes: number;
  checks: RestoreCheck[];
  chainProblems: string[];
  error: string | null;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function drillMarkdown(r: DrillReport): string {
  const lines = [
    `# Restore drill: ${r.ok ? 'PASSED' : 'FAILED'}`,
    '',
    'Evidence for HIPAA 164.308(a)(7)(ii)(D) (testing of the data backup and disaster recovery plan).',
    '',
    `| | |`,
    `|---|---|`,
    `| Started | ${r.startedAt} |`,
    `| Finished | ${r.finishedAt} |`,
    `| Host | ${r.host} |`,
    `| Target | ${r.target} |`,
    `| Snapshot | ${r.snapshot ? `${r.snapshot.seq} (${r.snapshot.id}), taken ${r.snapshot.createdAt}, ${r.snapshot.database}` : 'none'} |`,
    `| Manifest SHA-256 | ${r.snapshot?.manifestHash ?? '-'} |`,
    `| Time to restore | ${secs(r.restoreMs)} |`,
    `| Checks | ${secs(r.checksMs)} |`,
    `| Total | ${secs(r.totalMs)} |`,
    `| Restored | ${r.files} files, ${r.bytes} bytes |`,
    '',
    '## Checks',
    '',
    '| Check | Result | Detail |',
    '|---|---|---|',
    ...r.checks.map((c) => `| ${c.name} | ${c.ok ? 'ok' : 'FAILED'} | ${c.detail.replace(/\|/g, '\\|')} |`),
  ];
  if (r.chainProblems.length) lines.push('', '## Chain problems', '', ...r.chainProblems.map((p) => `- ${p}`));
  if (r.error) lines.push('', '## Error', '', '```', r.error, '```');
  return lines.join('\n') + '\n';
}

/** The same report as a self-contained HTML page (prints to PDF from any browser). */
export function drillHtml(r: DrillReport): string {
  const row = (k: string, v: string) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Restore drill ${esc(r.startedAt)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:50rem;margin:2rem auto;color:#111}table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4;width:14rem}.ok{color:#0a6b2d}.bad{color:#a40000;font-weight:bold}@media print{body{margin:0}}</style></head>
<body><h1>Restore drill: <span class="${r.ok ? 'ok' : 'bad'}">${r.ok ? 'PASSED' : 'FAILED'}</span></h1>
<p>Evidence for HIPAA 164.308(a)(7)(ii)(D) (testing of the data backup and disaster recovery plan).</p>
<table>${row('Started', r.startedAt)}${row('Finished', r.finishedAt)}${row('Host', r.host)}${row('Target', r.target)}${row('Snapshot', r.snapshot ? `${r.snapshot.seq} (${r.snapshot.id}), taken ${r.snapshot.createdAt}, ${r.snapshot.database}` : 'none')}${row('Manifest SHA-256', r.snapshot?.manifestHash ?? '-')}${row('Time to restore', secs(r.restoreMs))}${row('Checks', secs(r.checksMs))}${row('Total', secs(r.totalMs))}${row('Restored', `${r.files} files, ${r.bytes} bytes`)}</table>
<h2>Checks</h2><table><tr><th>Check</th><th>Result</th><th>Detail</th></tr>${r.checks.map((c) => `<tr><td>${esc(c.name)}</td><td class="${c.ok ? 'ok' : 'bad'}">${c.ok ? 'ok' : 'FAILED'}</td><td>${esc(c.detail)}</td></tr>`).join('')}</table>
${r.chainProblems.length ? `<h2>Chain problems</h2><ul>${r.chainProblems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : ''}${r.error ? `<h2>Error</h2><pre>${esc(r.error)}</pre>` : ''}
</body></html>
`;
}
