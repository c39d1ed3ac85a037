import { useEffect, useState, type FormEvent } from 'react';
import type { Department, PhishTemplateSummary } from '@consilium/protocol';
import { listDepartments } from '../api/org';
import { createCampaign, listTemplates } from './api';

const localInput = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

/** Creates a draft campaign: template (with its Phish Scale difficulty), target, window, business hours. */
export function NewCampaignForm({ onCreated, onError }: { onCreated: () => void; onError: (e: unknown) => void }) {
  const [templates, setTemplates] = useState<PhishTemplateSummary[]>([]);
  const [departments, setDepartments] = useState<Department[]>([]);
  const [name, setName] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [everyone, setEveryone] = useState(false);
  const [departmentIds, setDepartmentIds] = useState<string[]>([]);
  const [start, setStart] = useState(localInput(new Date()));
  const [end, setEnd] = useState(localInput(new Date(Date.now() + 5 * 86_400_000)));
  const [startHour, setStartHour] = useState(8);
  const [endHour, setEndHour] = useState(17);
  const [weekdaysOnly, setWeekdaysOnly] = useState(true);
  const [senderDomain, setSenderDomain] = useState('');
  useEffect(() => {
    listTemplates().then((r) => {
      setTemplates(r.templates);
      setTemplateId((t) => t || r.templates[0]?.id || '');
    }, onError);
    listDepartments().then((r) => setDepartments(r.departments), onError);
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    createCampaign({
      name,
      templateId,
      target: { everyone, departmentIds, roles: [], accountIds: [] },
      window: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
      businessHours: { startHour, endHour, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, weekdaysOnly },
      senderDomain,
    }).then(onCreated, onError);
  };
  return (
    <form onSubmit={submit} className="new-campaign">
      <h3>New campaign</h3>
      <label className="field">
        Name <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} />
      </label>
      <label className="field">
        Template
        <select value={templateId} onChange={(e) => setTemplateId(e.target.value)}>
          {templates.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name} ({t.difficulty}: {t.cueCount} cues, {t.premiseBand} premise alignment)
            </option>
          ))}
        </select>
      </label>
      <fieldset>
        <legend>Send to</legend>
        <label className="radio">
          <input type="checkbox" checked={everyone} onChange={(e) => setEveryone(e.target.checked)} /> Everyone in the organisation
        </label>
        {departments.map((d) => (
          <label key={d.id} className="radio">
            <input
              type="checkbox"
              checked={departmentIds.includes(d.id)}
              onChange={(e) => setDepartmentIds((ids) => (e.target.checked ? [...ids, d.id] : ids.filter((x) => x !== d.id)))}
            />{' '}
            {d.name}
          </label>
        ))}
      </fieldset>
      <label className="field">
        Window from <input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required />
      </label>
      <label className="field">
        until <input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} required />
      </label>
      <label className="field">
        Business hours from <input type="number" min={0} max={23} value={startHour} onChange={(e) => setStartHour(Number(e.target.value))} />
      </label>
      <label className="field">
        to <input type="number" min={1} max={24} value={endHour} onChange={(e) => setEndHour(Number(e.target.value))} />
      </label>
      <label className="radio">
        <input type="checkbox" checked={weekdaysOnly} onChange={(e) => setWeekdaysOnly(e.target.checked)} /> Weekdays only
      </label>
      <label className="field">
        Sender domain (a look-alike registered for training){' '}
        <input value={senderDomain} onChange={(e) => setSenderDomain(e.target.value)} required placeholder="stmarys-hospita1.org" />
      </label>
      <button type="submit" className="button">
        Create draft
      </button>
    </form>
  );
}
