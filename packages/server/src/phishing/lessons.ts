import type { Lesson, QuizResult } from '@consilium/protocol';
import { iso, type Deps } from '../deps.js';
import { notFound } from '../errors.js';
import * as store from './store.js';

interface Question {
  question: string;
  options: string[];
  answer: number;
  explanation: string;
}
interface LessonSource extends Omit<Lesson, 'quiz'> {
  quiz: Question[];
}

/** A lesson counts as completed when its quiz is passed (at least this share right). */
export const PASS_SHARE = 2 / 3;

/** The built-in course: five micro-lessons of about two minutes, each with a short quiz. */
export const lessons: readonly LessonSource[] = [
  {
    id: 'sender-spoofing',
    title: 'Who is really writing? Sender spoofing and lookalike domains',
    minutes: 2,
    sections: [
      { heading: 'The name is not the address', body: 'Mail programs show a display name ("IT Service Desk") that anyone can type. Open the sender to see the real address, and look at the part after the @.' },
      { heading: 'Lookalike domains', body: 'Attackers register names that differ by one letter (hospltal.org), swap letters that look alike (rn for m, 0 for o), add words (hospital-support.com) or use letters from other alphabets (a Cyrillic "а"). Read the domain slowly, from right to left.' },
      { heading: 'Replies that go elsewhere', body: 'A mail can come "from" a colleague while Reply sends your answer to a stranger. Check where your reply is going before you send anything sensitive.' },
    ],
    quiz: [
      { question: 'A mail shows "Pharmacy Team" as sender. What do you check?', options: ['Nothing: the name is familiar', 'The address after the @', 'The time it was sent'], answer: 1, explanation: 'The display name can be anything; the domain after the @ tells you who sent it.' },
      { question: 'Which domain is most likely a lookalike of stmarys-hospital.org?', options: ['stmarys-hospital.org', 'stmarys-hospitaI.org', 'mail.stmarys-hospital.org'], answer: 1, explanation: 'A capital I in place of a lower-case l is a classic lookalike.' },
      { question: 'Reply-To differs from the sender\'s domain. That means...', options: ['Your answer goes to someone else', 'The mail is encrypted', 'It is a newsletter'], answer: 0, explanation: 'Replies go to the Reply-To address, which may belong to the attacker.' },
    ],
  },
  {
    id: 'credential-lures',
    title: 'Credential lures: links that ask for your password',
    minutes: 2,
    sections: [
      { heading: 'What a lure looks like', body: 'A reason to sign in ("password expires", "document shared", "voicemail waiting"), a deadline, and a link to a page that looks like your sign-in page.' },
      { heading: 'Hover before you click', body: 'On a computer, rest the pointer on the link and read the address shown at the bottom of the window; on a phone, press and hold. If the words of the link and the real address differ, do not click.' },
      { heading: 'Never type your password after clicking a mail link', body: 'Go to the system the way you always do (bookmark, intranet, app). If the request is real, it will be there too. No one from IT will ever ask for your password or an authenticator code.' },
    ],
    quiz: [
      { question: 'The link text says https://ehr.hospital.org but hovering shows https://ehr-hospital.login-check.com. You...', options: ['Click: the text is the hospital\'s', 'Do not click, and report it', 'Forward it to colleagues to check'], answer: 1, explanation: 'The real target is what counts, and it is not your organisation\'s domain.' },
      { question: 'Your password "expires in 2 hours" per a mail. Best action?', options: ['Use the link in the mail', 'Open the EHR as usual; report the mail', 'Reply with your password'], answer: 1, explanation: 'Go to the system your usual way; real expiry notices appear there.' },
      { question: 'Who may ask for your authenticator code?', options: ['IT support', 'Your manager', 'Nobody'], answer: 2, explanation: 'The code is yours alone; anyone asking for it is attacking your account.' },
    ],
  },
  {
    id: 'attachments-qr',
    title: 'Attachments and QR codes',
    minutes: 2,
    sections: [
      { heading: 'Risky file types', body: 'Web pages (.html, .htm, .svg), disk images (.iso, .img), archives (.zip, .rar, .7z), scripts and programs (.js, .exe, .lnk) and macro documents (.docm, .xlsm) are used to deliver malware or fake sign-in pages. Be wary of "invoice.pdf.html": the real type is the last one.' },
      { heading: 'Documents that are links', body: 'A blue "report.pdf" in the text of a mail is often a link to a website, not an attachment.' },
      { heading: 'QR codes', body: 'A QR code hides its address from mail filters and moves you to your phone, where the address is hard to check. Do not scan codes from unexpected mails; type the address of the service yourself.' },
    ],
    quiz: [
      { question: 'Which attachment is the most dangerous?', options: ['results.pdf', 'results.pdf.html', 'photo.jpg'], answer: 1, explanation: 'The final extension is .html: a web page, often a fake sign-in form.' },
      { question: 'A mail asks you to scan a QR code to keep your MFA working. You...', options: ['Scan it with your work phone', 'Report the mail', 'Scan it with a personal phone'], answer: 1, explanation: 'QR codes in unexpected mails are a way around filters; report it.' },
      { question: 'A zip file arrives from an unknown supplier about an overdue invoice. You...', options: ['Open it to check the amount', 'Report it and check with finance by phone', 'Forward it to finance'], answer: 1, explanation: 'Unexpected archives are a common malware route; verify through a known channel.' },
    ],
  },
  {
    id: 'mfa-fatigue-phone',
    title: 'MFA fatigue and phone pretexting',
    minutes: 2,
    sections: [
      { heading: 'Push bombing', body: 'If your authenticator asks you to approve a sign-in you did not start, someone has your password. Deny it, every time, even if it keeps asking, and tell the security team: your password needs changing.' },
      { heading: 'The helpful caller', body: 'Attackers phone pretending to be IT, a manager or a supplier, often after a mail, and ask you to read out a code, approve a prompt or install a remote-support tool. Hang up and call back on a number you know.' },
      { heading: 'Urgency by phone', body: '"The ward system goes down in five minutes unless..." is pressure, not procedure. Real IT staff can wait for you to call them back.' },
    ],
    quiz: [
      { question: 'You get five sign-in approval prompts you did not start. You...', options: ['Approve one to make them stop', 'Deny them and report it', 'Ignore them'], answer: 1, explanation: 'Someone has your password; deny and report so it can be reset.' },
      { question: '"IT" calls and asks for the code that just arrived on your phone. You...', options: ['Read it out', 'Hang up and call the service desk on its known number', 'Send it by mail instead'], answer: 1, explanation: 'Real IT never needs your code; verify on a number you know.' },
      { question: 'A caller says a doctor needs a patient list faxed urgently to a new number. You...', options: ['Fax it: patient care comes first', 'Verify the request through a known contact', 'Ask them to e-mail'], answer: 1, explanation: 'Verify the requester through a known channel before releasing patient data.' },
    ],
  },
  {
    id: 'how-to-report',
    title: 'How to report, and why fast matters',
    minutes: 1.5,
    sections: [
      { heading: 'One click', body: 'In Consilium, use "Report phishing" (or paste the mail into the suspicious-mail check and report from there). You can also forward the mail to the security team\'s report address.' },
      { heading: 'Report even if you clicked', body: 'Clicking is not a disciplinary matter; hiding it is the risk. Report at once, and say what you did: the sooner the team knows, the sooner they can block the site and reset a password.' },
      { heading: 'Why speed matters', body: 'The first report of a real attack lets the security team remove the mail from every inbox before most colleagues open it. Each minute counts.' },
    ],
    quiz: [
      { question: 'You clicked a link and typed your password, then realised. You...', options: ['Say nothing', 'Report at once and change your password', 'Wait to see if anything happens'], answer: 1, explanation: 'Fast reporting limits damage; you will not be blamed for reporting.' },
      { question: 'What is the best way to report a suspicious mail?', options: ['"Report phishing" in Consilium or forward to the report address', 'Reply to the sender', 'Delete it'], answer: 0, explanation: 'Reporting lets the team act for everyone; deleting protects only you.' },
      { question: 'Why does reporting quickly matter?', options: ['It does not', 'The team can remove the mail from other inboxes', 'It deletes the attacker\'s account'], answer: 1, explanation: 'A quick report stops colleagues from falling for the same mail.' },
    ],
  },
];

const find = (id: string) => {
  const l = lessons.find((x) => x.id === id);
  if (!l) throw notFound('lesson');
  return l;
};

export async function listLessons(deps: Deps, accountId: string) {
  const progress = new Map((await store.lessonProgress(deps.db, accountId)).map((p) => [p.lesson_id, p]));
  return lessons.map((l) => ({
    id: l.id,
    title: l.title,
    minutes: l.minutes,
    completedAt: progress.get(l.id)?.completed_at ?? null,
    bestScore: progress.get(l.id)?.best_score ?? null,
    questionCount: l.quiz.length,
  }));
}

/** The lesson without its answers. */
export function getLesson(id: string): Lesson {
  const l = find(id);
  return { id: l.id, title: l.title, minutes: l.minutes, sections: l.sections, quiz: l.quiz.map((q) => ({ question: q.question, options: q.options })) };
}

export async function submitQuiz(deps: Deps, accountId: string, id: string, answers: number[]): Promise<QuizResult> {
  const l = find(id);
  const feedback = l.quiz.map((q, i) => ({ correct: answers[i] === q.answer, explanation: q.explanation }));
  const correct = feedback.filter((f) => f.correct).length;
  const passed = correct >= Math.ceil(l.quiz.length * PASS_SHARE);
  const previous = (await store.lessonProgress(deps.db, accountId)).find((p) => p.lesson_id === id);
  const now = iso(deps.now());
  await store.saveLessonProgress(deps.db, {
    account_id: accountId,
    lesson_id: id,
    best_score: Math.max(previous?.best_score ?? 0, correct),
    completed_at: previous?.completed_at ?? (passed ? now : null),
    updated_at: now,
  });
  return { correct, total: l.quiz.length, passed, feedback };
}
