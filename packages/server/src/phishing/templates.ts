import type { PhishCue, PhishTemplate, PremiseAlignment } from '@consilium/protocol';
import { cueBand, detectionDifficulty, premiseBand } from './phish-scale.js';

/**
 * The built-in library of simulated phishing mails, healthcare-themed. Each carries its NIST Phish
 * Scale cues (annotated with the exact text they are in, for the teachable moment) and its premise
 * alignment; difficulty is computed from both (phish-scale.ts), never typed by hand.
 *
 * Merge fields: {{firstName}} {{name}} {{email}} {{orgName}} {{department}} {{date}} {{link}}
 * (the tracked link) and, in HTML only, {{pixel}} (the open-tracking image). Anything else in
 * double braces is refused when a campaign is created.
 */
export const MERGE_FIELDS = ['firstName', 'name', 'email', 'orgName', 'department', 'date', 'link', 'pixel'] as const;

interface Source {
  id: string;
  name: string;
  theme: string;
  subject: string;
  fromName: string;
  fromLocalPart: string;
  /** Plain text; {{link}} stands where the link goes. */
  text: string;
  /** What the link looks like in the HTML version (the href is always the tracked link). */
  linkText: string;
  cues: PhishCue[];
  premise: PremiseAlignment;
  landing: PhishTemplate['landing'];
}

const cue = (category: PhishCue['category'], label: string, excerpt: string, explanation: string): PhishCue => ({ category, label, excerpt, explanation });

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** HTML version of a template: paragraphs of the text, the link as an anchor whose text is not its target. */
export function htmlOf(src: Pick<Source, 'text' | 'linkText'>): string {
  const paragraphs = src.text.split(/\n{2,}/).map((p) => {
    const parts = p.split('{{link}}').map((s) => escapeHtml(s).replace(/\n/g, '<br>'));
    return `<p>${parts.join(`<a href="{{link}}">${escapeHtml(src.linkText)}</a>`)}</p>`;
  });
  return `<!doctype html><html><body style="font-family:Arial,sans-serif;font-size:14px">${paragraphs.join('\n')}<img src="{{pixel}}" width="1" height="1" alt=""></body></html>`;
}

const login = (title: string): PhishTemplate['landing'] => ({ kind: 'login', title, fields: ['username', 'password'] });

const sources: Source[] = [
  {
    id: 'ehr-password-expiry',
    name: 'EHR password expiry',
    theme: 'IT / electronic health record',
    subject: 'ACTION REQUIRED: Your EHR password expires in 2 hours',
    fromName: 'EHR Support Desk',
    fromLocalPart: 'ehr-support',
    text: `Dear user,

Your password for the electronic health record expires in 2 hours. To avoid losing access to patient charts during your shift, validate your current password now:

{{link}}

If you do not validate, your account will be locked and orders you have placed may be delayed.

EHR Support Desk
IT Service Centre`,
    linkText: 'https://ehr-login.validate-access.com/sso',
    cues: [
      cue('language', 'sense of urgency', 'expires in 2 hours', 'A short deadline is meant to make you act before you think. Real password expiry notices give days, not hours.'),
      cue('language', 'generic greeting', 'Dear user', 'Your own IT department knows your name.'),
      cue('language', 'request for sensitive information', 'validate your current password', 'No real system asks you to "validate" a password you already have by typing it into a page from an e-mail.'),
      cue('language', 'threatening language', 'your account will be locked', 'Threats of lock-out push you to click without checking.'),
      cue('tactic', 'mimics a business process', 'losing access to patient charts during your shift', 'It borrows a real worry at work to make the request feel routine.'),
      cue('technical', 'sender domain and display name', 'EHR Support Desk', 'Check the address after the name: it is not your organisation\'s domain.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 1, concernOverNotClicking: 2, previouslyWarned: 1 },
    landing: login('EHR single sign-on'),
  },
  {
    id: 'lab-results-portal',
    name: 'Lab result portal',
    theme: 'Clinical / laboratory',
    subject: 'Critical lab result available for review',
    fromName: 'Laboratory Results',
    fromLocalPart: 'lab-results',
    text: `Hello {{firstName}},

A critical value has been released for one of your patients. For data protection the result can only be viewed on the secure lab portal:

{{link}}

Please review within 30 minutes as per the critical results policy.

Clinical Laboratory
{{orgName}}`,
    linkText: 'View result',
    cues: [
      cue('tactic', 'mimics a business process', 'critical value has been released', 'Critical results are phoned through or shown in the EHR, not sent as links to a separate portal.'),
      cue('language', 'sense of urgency', 'within 30 minutes', 'The deadline plays on your duty to patients.'),
      cue('technical', 'URL hyperlinking', 'View result', 'The button hides where it goes. Hover over it (or long-press) to see the real address.'),
      cue('technical', 'sender domain and display name', 'Laboratory Results', 'The name looks internal; the address behind it is not.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 1, concernOverNotClicking: 2, previouslyWarned: 0 },
    landing: login('Laboratory results portal'),
  },
  {
    id: 'roster-change',
    name: 'Roster change',
    theme: 'Workforce / scheduling',
    subject: 'Your shifts for next week have changed',
    fromName: 'Rostering Team',
    fromLocalPart: 'rostering',
    text: `Hi {{firstName}},

Due to staff shortages your roster for next week has been updated. Please confirm the changes to your shifts by end of today, otherwise the changes will be applied automatically.

See your new roster: {{link}}

Thanks,
Rostering Team`,
    linkText: 'Open roster',
    cues: [
      cue('language', 'sense of urgency', 'by end of today', 'A same-day deadline leaves no time to check with your manager.'),
      cue('tactic', 'aligns with current events', 'Due to staff shortages', 'It borrows something everyone is talking about to seem plausible.'),
      cue('technical', 'URL hyperlinking', 'Open roster', 'The link text does not show the address it leads to.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 2, concernOverNotClicking: 1, previouslyWarned: 0 },
    landing: login('Staff rostering'),
  },
  {
    id: 'pharmacy-delivery',
    name: 'Pharmacy delivery failed',
    theme: 'Parcel / pharmacy delivery',
    subject: 'Delivery attempt failed - medication order #48213',
    fromName: 'MedExpress Couriers',
    fromLocalPart: 'noreply-tracking',
    text: `Dear Customer,

We attempted to deliver your medication order #48213 today but nobody was available to sign. Your package will be returned to sender in 24 hours unless you reschedule.

A redelivery fee of 1.99 EUR applies. Reschedule and pay here: {{link}}

MedExpress Couriers`,
    linkText: 'Reschedule delivery',
    cues: [
      cue('language', 'generic greeting', 'Dear Customer', 'The sender does not know who you are.'),
      cue('language', 'sense of urgency', 'returned to sender in 24 hours', 'A deadline to stop you checking whether you ordered anything.'),
      cue('language', 'request for sensitive information', 'Reschedule and pay here', 'A small fee is the classic way to harvest card details.'),
      cue('tactic', 'too good to be true / unexpected', 'medication order #48213', 'Did you order anything? An unexpected parcel is a common lure.'),
      cue('technical', 'sender domain and display name', 'MedExpress Couriers', 'A courier you have never heard of, from an address you cannot place.'),
      cue('visual', 'no minimal branding', 'MedExpress Couriers', 'No logo, no tracking number format you recognise, no contact details.'),
    ],
    premise: { mimicsWorkplaceProcess: 0, workplaceRelevance: 1, alignsWithCurrentEvents: 1, concernOverNotClicking: 1, previouslyWarned: 2 },
    landing: { kind: 'form', title: 'Reschedule delivery', fields: ['name', 'address', 'card_number', 'card_expiry', 'card_cvc'] },
  },
  {
    id: 'hr-payroll-update',
    name: 'HR payroll update',
    theme: 'HR / payroll',
    subject: 'Payroll: confirm your bank details before the next pay run',
    fromName: 'HR Payroll',
    fromLocalPart: 'payroll',
    text: `Dear {{name}},

We are moving to a new payroll system this month. All staff must confirm their bank details before Friday, or this month's salary may be delayed.

Confirm your details: {{link}}

Kind regards,
Payroll Services, Human Resources`,
    linkText: 'Confirm bank details',
    cues: [
      cue('language', 'request for sensitive information', 'confirm their bank details', 'Payroll never asks you to re-enter bank details through an e-mail link.'),
      cue('language', 'threatening language', 'salary may be delayed', 'A threat to your pay is a strong lever.'),
      cue('tactic', 'mimics a business process', 'moving to a new payroll system', 'System changes are announced by your organisation through known channels first.'),
      cue('technical', 'URL hyperlinking', 'Confirm bank details', 'The link text hides the destination.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 1, concernOverNotClicking: 2, previouslyWarned: 1 },
    landing: { kind: 'form', title: 'Payroll self-service', fields: ['username', 'password', 'iban'] },
  },
  {
    id: 'cme-certificate',
    name: 'CME certificate ready',
    theme: 'Education / CME credits',
    subject: 'Your CME certificate (12 credits) is ready to download',
    fromName: 'Continuing Medical Education',
    fromLocalPart: 'cme-certificates',
    text: `Congratulations {{firstName}}!

Your certificate for 12 CME credits is ready. Certificates not downloaded within 7 days are archived and credits may not be reported to your licensing body.

Download your certificate: {{link}}

Sign in with your hospital account to access it.

CME Office`,
    linkText: 'Download certificate (PDF)',
    cues: [
      cue('tactic', 'you are special / reward', 'Congratulations', 'Praise and rewards lower your guard.'),
      cue('language', 'threatening language', 'credits may not be reported to your licensing body', 'A threat to your professional standing.'),
      cue('language', 'request for sensitive information', 'Sign in with your hospital account', 'A certificate download does not need your hospital password.'),
      cue('technical', 'URL hyperlinking', 'Download certificate (PDF)', 'It says PDF, but the link goes to a web page that asks you to sign in.'),
      cue('language', 'sense of urgency', 'within 7 days', 'A deadline for something you did not know about.'),
    ],
    premise: { mimicsWorkplaceProcess: 1, workplaceRelevance: 2, alignsWithCurrentEvents: 1, concernOverNotClicking: 1, previouslyWarned: 0 },
    landing: login('CME portal'),
  },
  {
    id: 'shared-scan',
    name: 'Shared scan from the copier',
    theme: 'Document sharing',
    subject: 'Scanned document from Ward-4 MFP',
    fromName: 'Scan to Email',
    fromLocalPart: 'scanner',
    text: `You have received a scanned document.

Device: Ward-4 MFP
Pages: 3
Document: patient_transfer_form.pdf

Open document: {{link}}

This message was sent automatically. Do not reply.`,
    linkText: 'patient_transfer_form.pdf',
    cues: [
      cue('technical', 'URL hyperlinking', 'patient_transfer_form.pdf', 'It looks like an attachment, but it is a link to a website.'),
      cue('tactic', 'mimics a business process', 'Ward-4 MFP', 'Copier scans are routine, so they are rarely questioned. Did you scan anything?'),
      cue('language', 'lack of signer details', 'Do not reply', 'No person stands behind it, and you cannot ask.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 0, concernOverNotClicking: 1, previouslyWarned: 1 },
    landing: login('Document viewer'),
  },
  {
    id: 'mfa-reset',
    name: 'MFA re-enrolment',
    theme: 'IT / multi-factor authentication',
    subject: 'Security notice: re-register your authenticator app',
    fromName: 'IT Security',
    fromLocalPart: 'it-security',
    text: `Hello {{firstName}},

As part of our security upgrade, all staff must re-register their authenticator app by scanning the new QR code. Accounts not re-registered within 48 hours will lose remote access.

Start re-registration: {{link}}

You will be asked for your current password and a code from your app.

IT Security Team`,
    linkText: 'Start re-registration',
    cues: [
      cue('language', 'request for sensitive information', 'a code from your app', 'Nobody legitimate ever needs a code from your authenticator: that code is the second lock on your account.'),
      cue('language', 'threatening language', 'will lose remote access', 'A threat to a tool you depend on.'),
      cue('language', 'sense of urgency', 'within 48 hours', 'A deadline to rush you.'),
      cue('tactic', 'poses as authority', 'IT Security', 'Posing as the security team makes it look safe.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 1, concernOverNotClicking: 2, previouslyWarned: 1 },
    landing: { kind: 'login', title: 'Authenticator re-registration', fields: ['username', 'password', 'otp_code'] },
  },
  {
    id: 'mailbox-quota',
    name: 'Mailbox full',
    theme: 'IT / e-mail',
    subject: 'Mailbox quota exceeded - incoming mail on hold',
    fromName: 'Mail Administrator',
    fromLocalPart: 'postmaster',
    text: `Attention {{email}},

Your mailbox has exceeded it's storage limit. 14 incoming messages are on hold and will be deleted.

To release you're messages increase your quota now: {{link}}

Mail Administrator`,
    linkText: 'Increase quota',
    cues: [
      cue('error', 'spelling and grammar', "exceeded it's storage limit", 'Spelling and grammar mistakes are rare in real notices from your IT department.'),
      cue('error', 'spelling and grammar', "release you're messages", 'Another mistake: "you\'re" should be "your".'),
      cue('language', 'generic greeting', 'Attention', 'Addressed to an e-mail address, not to a person.'),
      cue('language', 'threatening language', 'will be deleted', 'Threat of losing mail.'),
      cue('tactic', 'mimics a business process', 'Mailbox quota exceeded', 'A routine IT message, reused by attackers for years.'),
      cue('visual', 'no minimal branding', 'Mail Administrator', 'No name, no logo, no ticket number.'),
      cue('technical', 'URL hyperlinking', 'Increase quota', 'Hover to see where it really goes.'),
    ],
    premise: { mimicsWorkplaceProcess: 1, workplaceRelevance: 1, alignsWithCurrentEvents: 0, concernOverNotClicking: 1, previouslyWarned: 2 },
    landing: login('Webmail'),
  },
  {
    id: 'patient-complaint',
    name: 'Patient complaint',
    theme: 'Quality / complaints',
    subject: 'Formal complaint received regarding your care - response required',
    fromName: 'Patient Relations Office',
    fromLocalPart: 'patient-relations',
    text: `Dear {{name}},

A formal complaint naming you has been submitted by a patient's family. Under the complaints procedure you must read the complaint and submit your statement within 3 working days.

The complaint is available here: {{link}}

This matter is confidential. Do not discuss it with colleagues.

Patient Relations Office`,
    linkText: 'Read complaint',
    cues: [
      cue('language', 'threatening language', 'A formal complaint naming you', 'Fear of blame makes people click without checking.'),
      cue('language', 'sense of urgency', 'within 3 working days', 'A deadline.'),
      cue('tactic', 'isolation', 'Do not discuss it with colleagues', 'Telling you not to ask anyone is a strong sign: it stops the one check that would expose it.'),
      cue('technical', 'URL hyperlinking', 'Read complaint', 'Link text hides the target.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 0, concernOverNotClicking: 2, previouslyWarned: 0 },
    landing: login('Complaints management system'),
  },
  {
    id: 'vaccination-campaign',
    name: 'Staff flu vaccination booking',
    theme: 'Occupational health',
    subject: 'Book your staff flu vaccination slot',
    fromName: 'Occupational Health',
    fromLocalPart: 'occupational-health',
    text: `Hi {{firstName}},

Staff flu vaccination clinics open next week. Slots are limited and allocated first come, first served.

Book your slot with your staff login: {{link}}

Occupational Health`,
    linkText: 'Book a slot',
    cues: [
      cue('tactic', 'limited time / scarcity', 'Slots are limited', 'Scarcity pushes you to act quickly.'),
      cue('language', 'request for sensitive information', 'with your staff login', 'A booking page from an e-mail asking for your login.'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 2, concernOverNotClicking: 0, previouslyWarned: 0 },
    landing: login('Occupational health booking'),
  },
  {
    id: 'invoice-overdue',
    name: 'Overdue invoice from a supplier',
    theme: 'Finance / supplier',
    subject: 'RE: Overdue invoice INV-2291 - final reminder',
    fromName: 'Accounts Receivable - Surgical Supplies Ltd',
    fromLocalPart: 'accounts',
    text: `Good morning,

Further to our previous emails, invoice INV-2291 for surgical consumables is now 60 days overdue. Please arrange payment today to avoid suspension of your account and deliveries to theatre.

The invoice and our updated bank details are attached here: {{link}}

Regards,
Accounts Receivable`,
    linkText: 'INV-2291.pdf',
    cues: [
      cue('tactic', 'fake reply thread', 'RE: Overdue invoice', '"RE:" suggests an earlier conversation that never happened.'),
      cue('language', 'sense of urgency', 'arrange payment today', 'Pressure to pay at once.'),
      cue('language', 'threatening language', 'suspension of your account and deliveries to theatre', 'A threat to patient care.'),
      cue('language', 'request to change payment details', 'updated bank details', 'Changed bank details by e-mail is the signature of invoice fraud. Always confirm by phone on a known number.'),
      cue('technical', 'URL hyperlinking', 'INV-2291.pdf', 'It looks like a file, but it is a link.'),
      cue('language', 'generic greeting', 'Good morning', 'No name.'),
    ],
    premise: { mimicsWorkplaceProcess: 1, workplaceRelevance: 1, alignsWithCurrentEvents: 0, concernOverNotClicking: 2, previouslyWarned: 1 },
    landing: { kind: 'download', title: 'Secure document share', fields: ['email', 'password'] },
  },
  {
    id: 'teams-voicemail',
    name: 'Voicemail from the ward',
    theme: 'Telephony / voicemail',
    subject: 'New voicemail (0:47) from Ward 7 Nurses Station',
    fromName: 'Voicemail Service',
    fromLocalPart: 'voicemail',
    text: `You have a new voicemail.

From: Ward 7 Nurses Station
Length: 0:47
Received: {{date}}

Listen to message: {{link}}

Sign in with your hospital account to play the recording.`,
    linkText: 'Play voicemail',
    cues: [
      cue('language', 'request for sensitive information', 'Sign in with your hospital account', 'Playing a voicemail should not need your password on a web page.'),
      cue('technical', 'URL hyperlinking', 'Play voicemail', 'Where does the link go?'),
    ],
    premise: { mimicsWorkplaceProcess: 2, workplaceRelevance: 2, alignsWithCurrentEvents: 0, concernOverNotClicking: 1, previouslyWarned: 0 },
    landing: login('Voicemail'),
  },
  {
    id: 'research-survey-gift',
    name: 'Research survey with a gift card',
    theme: 'Research / survey',
    subject: 'Take our 3-minute staff wellbeing survey and get a 50 EUR voucher',
    fromName: 'Staff Wellbeing Research',
    fromLocalPart: 'survey',
    text: `Dear Healthcare Hero,

As a thank you for your hard work, the first 100 staff to complete our 3-minute wellbeing survey receive a 50 EUR shopping voucher!!

Start the survey: {{link}}

Staff Wellbeing Research Team`,
    linkText: 'Start survey',
    cues: [
      cue('tactic', 'too good to be true', '50 EUR shopping voucher', 'A generous reward for almost nothing.'),
      cue('tactic', 'limited time / scarcity', 'first 100 staff', 'Scarcity.'),
      cue('language', 'generic greeting', 'Dear Healthcare Hero', 'Flattering but generic.'),
      cue('error', 'unprofessional punctuation', 'voucher!!', 'Double exclamation marks are unusual in official mail.'),
      cue('tactic', 'humanitarian / appreciation appeal', 'As a thank you for your hard work', 'Appreciation lowers your guard.'),
      cue('technical', 'sender domain and display name', 'Staff Wellbeing Research', 'Which department is this? The address is external.'),
      cue('visual', 'no minimal branding', 'Staff Wellbeing Research Team', 'No logo, no ethics approval number, no contact.'),
      cue('technical', 'URL hyperlinking', 'Start survey', 'The link hides its target.'),
      cue('language', 'request for sensitive information', '3-minute wellbeing survey', 'Surveys that end with a login page are harvesting passwords.'),
    ],
    premise: { mimicsWorkplaceProcess: 0, workplaceRelevance: 1, alignsWithCurrentEvents: 1, concernOverNotClicking: 0, previouslyWarned: 1 },
    landing: login('Survey sign-in'),
  },
];

function build(src: Source): PhishTemplate {
  return {
    id: src.id,
    name: src.name,
    theme: src.theme,
    subject: src.subject,
    fromName: src.fromName,
    fromLocalPart: src.fromLocalPart,
    text: src.text,
    linkText: src.linkText,
    html: htmlOf(src),
    cues: src.cues,
    premise: src.premise,
    landing: src.landing,
    cueCount: src.cues.length,
    cueBand: cueBand(src.cues.length),
    premiseBand: premiseBand(src.premise),
    difficulty: detectionDifficulty(src.cues, src.premise),
    custom: false,
  };
}

export const templateLibrary: readonly PhishTemplate[] = sources.map(build);

export function findTemplate(id: string): PhishTemplate | undefined {
  return templateLibrary.find((t) => t.id === id);
}

/** Merge fields used in a text that are not known: a template with any is refused. */
export function unknownMergeFields(...texts: string[]): string[] {
  const unknown = new Set<string>();
  for (const t of texts) {
    for (const m of t.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!(MERGE_FIELDS as readonly string[]).includes(m[1]!)) unknown.add(m[1]!);
    }
  }
  return [...unknown];
}

export type MergeValues = Record<(typeof MERGE_FIELDS)[number], string>;

/** Fills merge fields. HTML values are escaped; the link and pixel are URLs we built. */
export function merge(text: string, values: MergeValues, html: boolean): string {
  return text.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (_, name: string) => {
    const v = values[name as keyof MergeValues];
    if (v === undefined) throw new Error(`unknown merge field ${name}`);
    return html ? escapeHtml(v) : v;
  });
}
