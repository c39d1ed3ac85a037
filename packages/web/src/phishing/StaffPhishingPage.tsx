import { useEffect, useState } from 'react';
import './phishing.css';
import type { Lesson, MailCheckResult, QuizResult, ReportOutcome } from '@consilium/protocol';
import { ErrorAlert } from '../ui/ErrorAlert';
import { checkMail, getLesson, listLessons, reportPhishing, submitQuiz, type LessonSummary } from './api';

const verdictLabel: Record<MailCheckResult['verdict'], string> = {
  likely_phishing: 'Likely phishing',
  suspicious: 'Suspicious',
  no_signs: 'No warning signs found',
};

/** Staff side: report a mail in one click, check a suspicious mail, take the micro-lessons. */
export function StaffPhishingPage() {
  const [eml, setEml] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [check, setCheck] = useState<MailCheckResult | null>(null);
  const [report, setReport] = useState<ReportOutcome | null>(null);

  const readFile = async (file: File | undefined) => {
    if (file) setEml(await file.text());
  };
  const run = async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div className="page">
      <h1>Phishing</h1>
      <ErrorAlert error={error} />
      <section aria-labelledby="report-heading">
        <h2 id="report-heading">Report or check a suspicious mail</h2>
        <p className="muted">Save the mail as a file (.eml) or copy its source, then report it or check it for warning signs.</p>
        <label className="field">
          Mail file (.eml)
          <input type="file" accept=".eml,message/rfc822" onChange={(e) => void readFile(e.target.files?.[0])} />
        </label>
        <label className="field">
          Or paste the mail source
          <textarea rows={6} value={eml} onChange={(e) => setEml(e.target.value)} />
        </label>
        <label className="field">
          What made you suspicious? (optional)
          <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={2000} />
        </label>
        <div className="actions">
          <button
            type="button"
            className="button"
            onClick={() => void run(async () => setReport(await reportPhishing({ ...(eml ? { eml } : {}), ...(note ? { note } : {}) })))}
            disabled={!eml && !note}
          >
            Report phishing
          </button>
          <button type="button" className="button button-secondary" disabled={!eml} onClick={() => void run(async () => setCheck(await checkMail(eml)))}>
            Check for warning signs
          </button>
        </div>
        {report && (
          <p role="status" className="notice">
            {report.message}
          </p>
        )}
        {check && (
          <div className="mail-check" role="status">
            <h3>{verdictLabel[check.verdict]}</h3>
            <p className="muted">
              {check.from} · {check.subject}
            </p>
            <ul>
              {check.signs.map((s) => (
                <li key={s.code}>
                  <strong>{s.title}</strong> ({s.severity}): {s.explanation}
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
      <Lessons onError={setError} />
    </div>
  );
}

function Lessons({ onError }: { onError: (e: unknown) => void }) {
  const [lessons, setLessons] = useState<LessonSummary[]>([]);
  const [open, setOpen] = useState<Lesson | null>(null);
  const [answers, setAnswers] = useState<number[]>([]);
  const [result, setResult] = useState<QuizResult | null>(null);
  const reload = () => listLessons().then((r) => setLessons(r.lessons), onError);
  useEffect(() => {
    void reload();
  }, []);
  return (
    <section aria-labelledby="lessons-heading">
      <h2 id="lessons-heading">Micro-lessons</h2>
      <ul>
        {lessons.map((l) => (
          <li key={l.id}>
            <button
              type="button"
              className="link-button"
              onClick={() =>
                void getLesson(l.id).then((x) => {
                  setOpen(x);
                  setAnswers([]);
                  setResult(null);
                }, onError)
              }
            >
              {l.title}
            </button>{' '}
            <span className="muted">
              {l.minutes} min · {l.completedAt ? `completed (${l.bestScore}/${l.questionCount})` : 'not completed'}
            </span>
          </li>
        ))}
      </ul>
      {open && (
        <article className="lesson">
          <h3>{open.title}</h3>
          {open.sections.map((s) => (
            <div key={s.heading}>
              <h4>{s.heading}</h4>
              <p>{s.body}</p>
            </div>
          ))}
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void submitQuiz(open.id, answers).then((r) => {
                setResult(r);
                void reload();
              }, onError);
            }}
          >
            {open.quiz.map((q, i) => (
              <fieldset key={q.question}>
                <legend>{q.question}</legend>
                {q.options.map((o, j) => (
                  <label key={o} className="radio">
                    <input type="radio" name={`q${i}`} checked={answers[i] === j} onChange={() => setAnswers((a) => Object.assign([...a], { [i]: j }))} /> {o}
                  </label>
                ))}
                {result && <p className={result.feedback[i]?.correct ? 'ok' : 'muted'}>{result.feedback[i]?.explanation}</p>}
              </fieldset>
            ))}
            <button type="submit" className="button" disabled={answers.filter((a) => a !== undefined).length < open.quiz.length}>
              Check answers
            </button>
            {result && (
              <p role="status">
                {result.correct} of {result.total} right: {result.passed ? 'lesson completed.' : 'try again to complete it.'}
              </p>
            )}
          </form>
        </article>
      )}
    </section>
  );
}
