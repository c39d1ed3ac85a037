import { useEffect, useState } from 'react';
import './phishing.css';
import type { Campaign, CampaignResults, OrgPhishingOverview, ResultCounts, TriageItem } from '@consilium/protocol';
import { ErrorAlert } from '../ui/ErrorAlert';
import { NewCampaignForm } from './NewCampaignForm';
import { campaignResults, decideTriage, launchCampaign, listCampaigns, overview, triageQueue } from './api';

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const minutes = (s: number | null) => (s === null ? '–' : `${Math.round(s / 60)} min`);

/** A horizontal bar (no charting library yet: plain CSS widths). */
function Bar({ label, value }: { label: string; value: number }) {
  return (
    <div className="bar-row">
      <span className="bar-label">{label}</span>
      <span className="bar-track" aria-hidden="true">
        <span className="bar-fill" style={{ width: `${Math.min(100, value * 100)}%` }} />
      </span>
      <span className="bar-value">{pct(value)}</span>
    </div>
  );
}

function Counts({ c }: { c: ResultCounts }) {
  return (
    <div>
      <Bar label="Reported" value={c.reportRate} />
      <Bar label="Clicked (people)" value={c.clickRate} />
      <Bar label="Submitted a form" value={c.submitRate} />
      <p className="muted">
        {c.sent} sent · {c.clickedHuman} clicked (people) · {c.clickedBotOnly} scanner-only · {c.reported} reported · median time to report{' '}
        {minutes(c.medianSecondsToReport)} · resilience {c.resilience ?? '–'} · {c.failed} failed to send
      </p>
    </div>
  );
}

/** Security officer's dashboard: results per NIST Phish Scale band, campaigns, triage queue. */
export function SecurityDashboard() {
  const [error, setError] = useState<unknown>(null);
  const [campaigns, setCampaigns] = useState<Campaign[]>([]);
  const [summary, setSummary] = useState<OrgPhishingOverview | null>(null);
  const [results, setResults] = useState<CampaignResults | null>(null);
  const [triage, setTriage] = useState<TriageItem[]>([]);
  const reload = () => {
    listCampaigns().then((r) => setCampaigns(r.campaigns), setError);
    overview().then(setSummary, setError);
    triageQueue().then((r) => setTriage(r.items), setError);
  };
  useEffect(() => {
    reload();
    // Reports from the mailbox arrive within a minute; refresh on that rhythm.
    const t = setInterval(reload, 30_000);
    return () => clearInterval(t);
  }, []);
  return (
    <div className="page">
      <h1>Phishing resilience</h1>
      <ErrorAlert error={error} />
      <section aria-labelledby="bands">
        <h2 id="bands">By difficulty (NIST Phish Scale)</h2>
        {summary?.byDifficulty.map((g) => (
          <div key={g.key}>
            <h3>{g.label}</h3>
            {g.counts ? <Counts c={g.counts} /> : <p className="muted">No campaign at this difficulty yet.</p>}
          </div>
        ))}
        {summary && (
          <p className="muted">
            Repeat clickers (clicked {summary.repeatClickers.threshold}+ times): {summary.repeatClickers.count}
          </p>
        )}
      </section>
      <section aria-labelledby="campaigns">
        <h2 id="campaigns">Campaigns</h2>
        <NewCampaignForm onCreated={reload} onError={setError} />
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Template</th>
              <th>Difficulty</th>
              <th>Status</th>
              <th>Recipients</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {campaigns.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td>{c.templateName}</td>
                <td>{c.difficulty}</td>
                <td>{c.status}</td>
                <td>{c.recipientCount}</td>
                <td>
                  {c.status === 'draft' ? (
                    <button type="button" className="button button-small" onClick={() => void launchCampaign(c.id).then(reload, setError)}>
                      Launch
                    </button>
                  ) : (
                    <>
                      <button type="button" className="button button-secondary button-small" onClick={() => void campaignResults(c.id).then(setResults, setError)}>
                        Results
                      </button>{' '}
                      <a href={`/api/v1/phishing/campaigns/${encodeURIComponent(c.id)}/export.csv`}>CSV</a>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {results && (
          <div>
            <h3>Results ({results.difficulty})</h3>
            <Counts c={results.counts} />
            <h4>By department</h4>
            {results.byDepartment.map((g) => (
              <div key={g.key}>{g.counts ? <Bar label={g.label} value={g.counts.reportRate} /> : <p className="muted">{g.label}: group too small to show</p>}</div>
            ))}
          </div>
        )}
      </section>
      <section aria-labelledby="triage">
        <h2 id="triage">Reported mail (triage)</h2>
        <ul>
          {triage.map((t) => (
            <li key={t.id}>
              <strong>{t.subject ?? '(no subject)'}</strong> from {t.from ?? 'unknown'} · reported by {t.reporter ?? 'unknown'} via {t.source} ·{' '}
              {t.verdict ?? 'no mail attached'} · {t.status}
              {t.status === 'new' &&
                (['phishing', 'spam', 'benign'] as const).map((s) => (
                  <button key={s} type="button" className="button button-small button-secondary" onClick={() => void decideTriage(t.id, s).then(reload, setError)}>
                    {s}
                  </button>
                ))}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
