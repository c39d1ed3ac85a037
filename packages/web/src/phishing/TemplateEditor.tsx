import { useEffect, useState, type FormEvent } from 'react';
import type { PhishCue, PhishTemplate, PhishTemplateSummary, PremiseAlignment, TemplateBody } from '@consilium/protocol';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { createTemplate, deleteTemplate, getTemplate, listTemplates, updateTemplate } from './api';

const PREMISE: [keyof PremiseAlignment, string][] = [
  ['mimicsWorkplaceProcess', 'Mimics a workplace process'],
  ['workplaceRelevance', 'Relevant to the work'],
  ['alignsWithCurrentEvents', 'Fits current events'],
  ['concernOverNotClicking', 'Worry about not clicking'],
  ['previouslyWarned', 'Staff were warned about this (counts against)'],
];
const CATEGORIES = new Set(['error', 'technical', 'visual', 'language', 'tactic']);

const empty: TemplateBody = {
  name: '',
  theme: '',
  subject: '',
  fromName: '',
  fromLocalPart: '',
  text: 'Hello {{firstName}},\n\n{{link}}\n',
  html: '',
  linkText: '',
  cues: [],
  premise: { mimicsWorkplaceProcess: 1, workplaceRelevance: 1, alignsWithCurrentEvents: 0, concernOverNotClicking: 1, previouslyWarned: 0 },
  landing: { kind: 'login', title: 'Sign in', fields: ['username', 'password'] },
};

/** One cue a line: category | label | exact text in the mail | explanation. */
const cuesToText = (cues: PhishCue[]) => cues.map((c) => [c.category, c.label, c.excerpt, c.explanation].join(' | ')).join('\n');
const textToCues = (text: string): PhishCue[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [category = '', label = '', excerpt = '', explanation = ''] = l.split('|').map((s) => s.trim());
      return { category: (CATEGORIES.has(category) ? category : 'language') as PhishCue['category'], label, excerpt, explanation };
    });

/**
 * Sample values for the preview, so it loads nothing: the tracked link becomes "#", the pixel a
 * data: image (our CSP allows data: images).
 */
const SAMPLE: Record<string, string> = { firstName: 'Alex', name: 'Alex Example', email: 'alex@example.test', orgName: 'Example Hospital', department: 'Ward 4', date: new Date().toUTCString(), link: '#', pixel: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' };
const previewOf = (html: string) => html.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (m, k: string) => SAMPLE[k] ?? m);

/**
 * Custom templates: write or edit one; the server checks merge fields, sanitises the HTML and
 * computes the Phish Scale difficulty. The preview shows only the server's sanitised HTML, in an
 * iframe with sandbox="" (no scripts, no forms, no navigation of this page, an opaque origin).
 */
export function TemplateEditor({ onSaved, onError }: { onSaved: () => void; onError: (e: unknown) => void }) {
  const [custom, setCustom] = useState<PhishTemplateSummary[]>([]);
  const [editing, setEditing] = useState<string>('');
  const [b, setB] = useState<TemplateBody>(empty);
  const [cues, setCues] = useState('');
  const [saved, setSaved] = useState<PhishTemplate | null>(null);
  const [deleting, setDeleting] = useState(false);
  const refresh = () => listTemplates().then((r) => setCustom(r.templates.filter((t) => t.custom)), onError);
  useEffect(() => {
    void refresh();
  }, []);
  const load = (id: string) => {
    setEditing(id);
    setSaved(null);
    if (!id) {
      setB(empty);
      setCues('');
      return;
    }
    getTemplate(id).then((t) => {
      const { id: _id, cueCount: _c, cueBand: _cb, premiseBand: _pb, difficulty: _d, custom: _cu, ...body } = t;
      setB(body);
      setCues(cuesToText(t.cues));
      setSaved(t);
    }, onError);
  };
  const set = <K extends keyof TemplateBody>(k: K, v: TemplateBody[K]) => setB({ ...b, [k]: v });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = { ...b, cues: textToCues(cues) };
    (editing ? updateTemplate(editing, body) : createTemplate(body)).then((t) => {
      setSaved(t);
      setEditing(t.id);
      void refresh();
      onSaved();
    }, onError);
  };
  const text = (k: 'name' | 'theme' | 'subject' | 'fromName' | 'fromLocalPart' | 'linkText', label: string) => (
    <label className="field">
      {label} <input value={b[k]} onChange={(e) => set(k, e.target.value)} required />
    </label>
  );
  return (
    <div className="template-editor">
      <label className="field">
        Editing
        <select value={editing} onChange={(e) => load(e.target.value)}>
          <option value="">(new)</option>
          {custom.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
        </select>
      </label>
      <form onSubmit={submit}>
        {text('name', 'Drill name')}
        {text('theme', 'Theme')}
        {text('subject', 'Subject')}
        {text('fromName', 'Sender name')}
        {text('fromLocalPart', 'Sender address (before the @)')}
        {text('linkText', 'Link text shown')}
        <label className="field">
          Text (merge fields: {'{{firstName}} {{name}} {{email}} {{orgName}} {{department}} {{date}} {{link}}'})
          <textarea rows={6} value={b.text} onChange={(e) => set('text', e.target.value)} required />
        </label>
        <label className="field">
          HTML (optional; sanitised by the server; {'{{pixel}}'} for the open pixel)
          <textarea rows={6} value={b.html} onChange={(e) => set('html', e.target.value)} />
        </label>
        <label className="field">
          Phish Scale cues, one a line: category | label | exact text in the mail | explanation
          <textarea rows={4} value={cues} onChange={(e) => setCues(e.target.value)} required />
        </label>
        <fieldset>
          <legend>Premise alignment (0 to 2 each)</legend>
          {PREMISE.map(([k, label]) => (
            <label key={k} className="field">
              {label}
              <input type="number" min={0} max={2} value={b.premise[k]} onChange={(e) => set('premise', { ...b.premise, [k]: Number(e.target.value) })} />
            </label>
          ))}
        </fieldset>
        <label className="field">
          Landing page
          <select value={b.landing.kind} onChange={(e) => set('landing', { ...b.landing, kind: e.target.value as TemplateBody['landing']['kind'] })}>
            <option value="login">login</option>
            <option value="download">download</option>
            <option value="form">form</option>
          </select>
        </label>
        <label className="field">
          Landing page title <input value={b.landing.title} onChange={(e) => set('landing', { ...b.landing, title: e.target.value })} required />
        </label>
        <div className="button-row">
          <button type="submit" className="button button-small">
            {editing ? 'Save template' : 'Create template'}
          </button>
          {editing && (
            <button type="button" className="button button-small button-secondary" onClick={() => setDeleting(true)}>
              Delete template
            </button>
          )}
        </div>
      </form>
      {deleting && (
        <ConfirmDialog
          title="Delete this template?"
          confirmLabel="Delete template"
          onConfirm={async () => {
            await deleteTemplate(editing);
            load('');
            await refresh();
            onSaved();
          }}
          onClose={() => setDeleting(false)}
        >
          <p>
            “{b.name}” can no longer be picked for new campaigns. Campaigns made with it keep their own copy: their mails, results and lessons do not
            change.
          </p>
        </ConfirmDialog>
      )}
      {saved && (
        <section aria-label="Template preview">
          <p role="status">
            Saved “{saved.name}”: difficulty <strong data-testid="template-difficulty">{saved.difficulty}</strong> ({saved.cueCount} cues, {saved.premiseBand} premise alignment).
          </p>
          <iframe title="Template preview" sandbox="" srcDoc={previewOf(saved.html)} className="template-preview" />
        </section>
      )}
    </div>
  );
}
