import { useEffect, useState, type ChangeEvent, type FormEvent } from 'react';
import './phishing.css';
import type { Campaign, CampaignResults, OrgPhishingOverview, PhishingSettings, ResultCounts, TriageItem } from '@consilium/protocol';
import { ErrorAlert } from '../ui/ErrorAlert';
import { NewCampaignForm } from './NewCampaignForm';
import { RateChart } from './Chart';
import { SharingPanel } from './SharingPanel';
import { TemplateEditor } from './TemplateEditor';
import { campaignResults, decideTriage, getSettings, launchCampaign, listCampaigns, overview, triageQueue, updateSettings } from './api';

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const minutes = (s: number | null) => (s === null ? '–' : s < 60 ? `${s} s` : `${Math.round(s / 60)} min`);

type Group = { key: string; label: string; counts: ResultCounts | null };

/** The three headline rates of each group, as chart series (null for a group hidden by privacy mode). */
const rateSeries = (groups: { counts: ResultCounts | null }[]) => [
  { label: 'Reported', values: groups.map((g) => g.counts?.reportRate ?? null) },
  { label: 'Clicked (people)', values: groups.map((g) => g.counts?.clickRate ?? null) },
  { label: 'Submitted a form', values: groups.map((g) => g.counts?.submitRate ?? null) },
];

const summaryOf = (groups: { label: string; counts: ResultCounts | null }[]) =>
  groups.map((g) => (g.counts ? `${g.label}: reported ${pct(g.counts.reportRate)}, clicked ${pct(g.counts.clickRate)}, submitted ${pct(g.counts.submitRate)}` : `${g.label}: hidden (group too small)`)).join('; ');

/** The numbers behind a result, as text (the charts draw the rates). */
function Counts({ c }: { c: ResultCounts }) {
  const item = (id: string, label: string, value: string | number) => (
    <li>
      {label}: <strong data-testid={`count-${id}`}>{value}</strong>
    </li>
  );
  return (
    <ul className="counts">
      {item('sent', 'Sent', c.sent)}
      {item('failed', 'Failed to send', c.failed)}
      {item('delivered', 'Delivered (no bounce after the window)', c.delivered ?? 'not tracked (no bounce address)')}
      {item('bounced', 'Bounced', c.bounced)}
      {item('opened', 'Opened', c.opened)}
      {item('clicked', 'Clicked (people)', c.clickedHuman)}
      {item('scanner', 'Scanner-only', c.clickedBotOnly)}
      {item('submitted', 'Submitted a form', c.submitted)}
      {item('reported', 'Reported', c.reported)}
      {item('lessons', 'Lessons completed', c.lessonsCompleted)}
      {item('report-rate', 'Report rate', pct(c.reportRate))}
      {item('click-rate', 'Click rate', pct(c.clickRate))}
      {item('submit-rate', 'Submit rate', pct(c.submitRate))}
      {item('median-report', 'Median time to report', minutes(c.medianSecondsToReport))}
      {item('resilience', 'Resilience (reports per click)', c.resilience ?? '–')}
    </ul>
  );
}

function GroupChart({ title, groups }: { title: string; groups: Group[] }) {
  if (!groups.length) return null;
  return (
    <div>
      <h4>{title}</h4>
      <RateChart kind="bar" labels={groups.map((g) => g.label)} series={rateSeries(groups)} summary={`${title}: ${summaryOf(groups)}`} />
      {groups.some((g) => !g.counts) && (
        <p className="muted">
          Hidden in privacy mode (fewer people than the minimum group size):{' '}
          {groups
            .filter((g) => !g.counts)
            .map((g) => g.label)
            .join(', ')}
        </p>
      )}
    </div>
  );
}

/** Privacy mode, group size, retention and the repeat-clicker threshold. */
function SettingsForm({ onError, onSaved }: { onError: (e: unknown) => void; onSaved: () => void }) {
  const [s, setS] = useState<PhishingSettings | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    getSettings().then(setS, onError);
  }, []);
  if (!s) return null;
  const num = (k: 'minGroupSize' | 'retentionDays' | 'repeatClickerThreshold') => (e: ChangeEvent<HTMLInputElement>) => {
    setSaved(false);
    setS({ ...s, [k]: Number(e.target.value) });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    updateSettings(s).then((x) => {
      setS(x);
      setSaved(true);
      onSaved();
    }, onError);
  };
  return (
    <form className="settings-form" onSubmit={submit}>
      <label className="radio">
        <input type="checkbox" checked={s.privacyMode} onChange={(e) => setS({ ...s, privacyMode: e.target.checked })} /> Privacy mode (pseudonymous, groups only)
      </label>
      <label className="field">
        Minimum group size <input type="number" min={2} max={100} value={s.minGroupSize} onChange={num('minGroupSize')} />
      </label>
      <label className="field">
        Keep per-person events (days) <input type="number" min={7} max={3650} value={s.retentionDays} onChange={num('retentionDays')} />
      </label>
      <label className="field">
        Repeat clicker after (clicks) <input type="number" min={2} max={20} value={s.repeatClickerThreshold} onChange={num('repeatClickerThreshold')} />
      </label>
      <button type="submit" className="button button-small">
        Save settings
      </button>
      {saved && <span role="status">Saved.</span>}
    </form>
  );
}

/** Security officer's dashboard: trends per campaign and difficulty band, per-campaign results by department and role, triage. */
export function SecurityDashboard() {
  const [error, setError] = useState<unknown>(null);
  const [campaigns, setCampaigns] = useState<Campaign[]>([]);
  const [summary, setSummary] = useState<OrgPhishingOverview | null>(null);
  const [results, setResults] = useState<(CampaignResults & { name: string }) | null>(null);
  const [triage, setTriage] = useState<TriageItem[]>([]);
  const [sharingOf, setSharingOf] = useState<Campaign | null>(null);
  // Bumped when a custom template is saved, so the campaign form lists it.
  const [templatesVersion, setTemplatesVersion] = useState(0);
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
  const launched = [...(summary?.campaigns ?? [])].sort((a, b) => (a.launchedAt ?? '').localeCompare(b.launchedAt ?? ''));
  const bands = summary?.byDifficulty ?? [];
  return (
    <div className="page">
      <h1>Phishing resilience</h1>
      <ErrorAlert error={error} />
      <section aria-labelledby="trends">
        <h2 id="trends">Trend per campaign</h2>
        {launched.length ? (
          <RateChart
            kind="line"
            labels={launched.map((c) => c.name)}
            series={rateSeries(launched)}
            summary={`Per campaign, oldest first: ${summaryOf(launched.map((c) => ({ label: c.name, counts: c.counts })))}`}
          />
        ) : (
          <p className="muted">No campaign launched yet.</p>
        )}
        <h2 id="bands">By difficulty (NIST Phish Scale)</h2>
        {bands.some((b) => b.counts) && <RateChart kind="bar" labels={bands.map((b) => b.label)} series={rateSeries(bands)} summary={`By difficulty: ${summaryOf(bands)}`} />}
        <ul className="counts">
          {bands.map((b) => (
            <li key={b.key}>
              {b.label}: {b.counts ? `median time to report ${minutes(b.counts.medianSecondsToReport)}, resilience ${b.counts.resilience ?? '–'}` : 'no campaign yet'}
            </li>
          ))}
        </ul>
        {summary && (
          <p>
            Repeat clickers (clicked in {summary.repeatClickers.threshold} or more campaigns): <strong data-testid="repeat-clickers">{summary.repeatClickers.count}</strong>
          </p>
        )}
        <details>
          <summary>Settings</summary>
          <SettingsForm onError={setError} onSaved={reload} />
        </details>
      </section>
      <section aria-labelledby="campaigns">
        <h2 id="campaigns">Campaigns</h2>
        <details>
          <summary>Custom templates</summary>
          <TemplateEditor onSaved={() => setTemplatesVersion((v) => v + 1)} onError={setError} />
        </details>
        <NewCampaignForm key={templatesVersion} onCreated={reload} onError={setError} />
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Template</th>
              <th>Difficulty</th>
              <th>Status</th>
              <th>Recipients</th>
              <th>Your role</th>
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
                <td>{c.myRole}</td>
                <td>
                  <button type="button" className="button button-secondary button-small" onClick={() => setSharingOf(c)}>
                    Sharing
                  </button>{' '}
                  {c.status === 'draft' ? (
                    // Viewers see drafts but cannot launch them (the server refuses too).
                    c.myRole !== 'viewer' && (
                      <button type="button" className="button button-small" onClick={() => void launchCampaign(c.id).then(reload, setError)}>
                        Launch
                      </button>
                    )
                  ) : (
                    <>
                      <button
                        type="button"
                        className="button button-secondary button-small"
                        onClick={() => void campaignResults(c.id).then((r) => setResults({ ...r, name: c.name }), setError)}
                      >
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
        {sharingOf && <SharingPanel key={sharingOf.id} campaign={sharingOf} onError={setError} onChanged={reload} />}
        {results && (
          <section aria-label="Campaign results">
            <h3>
              Results: {results.name} ({results.difficulty})
            </h3>
            <Counts c={results.counts} />
            <GroupChart title="By department" groups={results.byDepartment} />
            <GroupChart title="By role" groups={results.byRole} />
          </section>
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
