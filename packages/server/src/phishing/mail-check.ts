import { domainToUnicode } from 'node:url';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { MailCheckResult, Verdict, WarningSign } from '@consilium/protocol';

/**
 * The suspicious-mail check: parse a raw mail (RFC 5322 / MIME, via mailparser) and explain in
 * plain language each warning sign found. Rules are about the mechanics of phishing (who it
 * claims to be vs where it comes from, where links really go, what it asks for, what it
 * attaches), not about the wording of known samples, so they carry over to mail never seen.
 *
 * Verdict: each sign has a weight (high 3, medium 2, low 1); likely phishing at 6 or more, or
 * a high sign together with a request for credentials, secrets or payment (deception plus the
 * ask is the anatomy of phishing), or a sign no legitimate sender has a reason to show (a request
 * to mail back a password or code, a disguised file type, a name spelled in look-alike letters);
 * suspicious at 3 or more. bench/phishing measures precision and recall on labelled mail.
 */

const weight = { high: 3, medium: 2, low: 1 } as const;

const FREE_MAIL = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'yahoo.com', 'ymail.com', 'aol.com', 'icloud.com', 'me.com',
  'gmx.com', 'gmx.net', 'gmx.de', 'web.de', 'mail.com', 'proton.me', 'protonmail.com', 'yandex.com', 'yandex.ru', 'mail.ru', 'zoho.com', 'hotmail.co.uk', 'yahoo.co.uk', 'outlook.de', 'hotmail.fr', 'orange.fr', 'free.fr', 'libero.it', 'qq.com', '163.com',
]);

/** Brands and services most impersonated in phishing (APWG / vendor reports), and healthcare ones. */
const BRANDS = [
  'microsoft', 'office365', 'outlook', 'onedrive', 'sharepoint', 'paypal', 'apple', 'icloud', 'google', 'amazon', 'netflix', 'linkedin', 'facebook', 'instagram', 'whatsapp',
  'dhl', 'fedex', 'ups', 'usps', 'postnl', 'royalmail', 'docusign', 'dropbox', 'adobe', 'wetransfer', 'zoom', 'webex', 'okta', 'citrix', 'epic', 'cerner', 'chipsoft',
  'chase', 'wellsfargo', 'bankofamerica', 'hsbc', 'barclays', 'santander', 'ing', 'rabobank', 'abnamro', 'irs', 'hmrc', 'medicare', 'nhs',
];

const URL_SHORTENERS = new Set(['bit.ly', 'tinyurl.com', 't.co', 'goo.gl', 'ow.ly', 'is.gd', 'buff.ly', 'rebrand.ly', 'cutt.ly', 'shorturl.at', 'rb.gy', 't.ly', 'tiny.cc', 'bl.ink', 's.id']);

const RISKY_EXT = /\.(html?|shtml|xhtml|svg|iso|img|vhdx?|zip|rar|7z|gz|tgz|ace|cab|exe|scr|com|pif|bat|cmd|ps1|vbs|vbe|js|jse|wsf|wsh|hta|jar|lnk|msi|msix|appx|dll|cpl|docm|xlsm|pptm|xlam|one|onepkg|reg|url|iqy|slk|chm)$/i;
const DOC_EXT = /\.(pdf|docx?|xlsx?|pptx?|txt|jpe?g|png|gif|csv|rtf)$/i;

const URGENCY = [
  /\burgent(ly)?\b/i, /\bimmediate(ly)?\b/i, /\bact now\b/i, /\bas soon as possible\b/i, /\bwithin (\d+|twenty[- ]four|forty[- ]eight|one|two|24|48|72) ?(hours?|hrs?|minutes?|days?)\b/i,
  /\b(final|last) (notice|warning|reminder)\b/i, /\b(expires?|expiring|expired) (today|soon|in)\b/i, /\b(account|mailbox|access|password) (will|has been|is|may be) (suspended|locked|closed|deleted|disabled|terminated|deactivated|restricted)\b/i,
  /\bfailure to (comply|respond|verify|update)\b/i, /\bunusual (sign[- ]?in|activity|login)\b/i, /\bsuspicious activity\b/i, /\bbefore (it'?s too late|the end of (the )?day)\b/i,
  /\bdringend\b/i, /\bsofort\b/i, /\bspoedig\b/i, /\bonmiddellijk\b/i,
];
const CREDENTIAL = [
  /\b(verify|confirm|validate|update|re-?enter|reactivate|restore|unlock) (your )?(account|identity|password|credentials|login|details|information|mailbox|payment|billing|bank)/i,
  /\b(log ?in|sign ?in) (to|with) (your )?(account|mailbox|hospital|office|webmail|portal)/i, /\bpassword\b/i, /\bcredentials?\b/i,
  /\b(bank|card|billing|payment) (details|information|number)\b/i, /\bsocial security\b|\bSSN\b/i,
  /\b(authenticator|verification|security|one[- ]time) code\b/i, /\bMFA\b|\b2FA\b/,
  /\bwachtwoord\b|\bkennwort\b|\bpasswort\b/i,
  // "Sign in to the roster portal", "log in with your hospital account".
  /\b(log ?in|sign ?in|log ?on) (to|with|on|at) (your |the |our )?([\w-]+ ){0,2}(account|mailbox|portal|webmail|credentials|system|site|page|intranet|e-?mail)\b/i,
  /\b(secure|recover|protect|unlock|reactivate) your (account|mailbox|profile)\b/i,
  /\bwith your (hospital|work|company|corporate|network|office|staff|organisation|organization|employee|school|university) (account|credentials|login|password|e-?mail)\b/i,
];
/**
 * Asking for a secret to be sent back by mail or typed in reply: no IT department, bank or
 * service does this. A negation ("never share your password") within the sentence cancels it.
 */
const SECRET_BY_MAIL =
  /\b(reply|respond|send|provide|give|share|tell|forward|read out)\b[^.!?\n]{0,40}\b(your|the)( [\w-]+){0,3} (password|passcode|pin code|verification code|security code|one[- ]time code|sms code|login details|credentials|code you (receive|got|will receive))\b/i;
const NEGATED = /\b(never|not|don'?t|do not|will not|won'?t|no one|nobody)\b/i;
/** Functions inside the organisation that phishing most often claims to be. */
const INTERNAL_FUNCTION =
  /\b(it|ict|i\.t\.|helpdesk|help desk|service ?desk|servicedesk|payroll|hr|human resources|personnel|roster|rostering|mailbox|webmail|e-?mail administrator|system administrator|administrator|security team|security desk|information security|it security|salarisadministratie|personeelszaken)\b/i;
const PAYMENT = [
  /\bgift ?cards?\b/i, /\b(our|the|my) (bank|banking) (account|details) (has|have) (changed|been changed|been updated)\b/i, /\b(new|updated|changed) (iban|account number|bank account)\b/i,
  /\bto the new account\b/i, /\b(customs|delivery|shipping|redelivery|re-delivery|handling|outstanding|unpaid) (fee|charge|duty|duties|amount)\b/i, /\b(wire|bank|money) transfer\b/i, /\b(new|updated|changed?) (bank|banking|payment|account) (details|information|account)\b/i, /\bbitcoin|\bcrypto ?currency\b/i,
  /\b(pay|payment|settle) (it |this |the invoice )?(today|immediately|now|urgently)\b/i, /\biTunes card|google play card|steam card\b/i,
];
const GENERIC_GREETING = /^\s*(dear|hello|hi|attention)[ ,]+(valued )?(customer|user|client|member|account holder|sir\/madam|sir or madam|colleague|staff|employee|webmail user|e-?mail user|recipient)\b/im;
const QR_HINT = /\b(scan (the|this) (qr|code)|qr[- ]?code)\b/i;

interface Link {
  text: string;
  href: string;
}

const hostOf = (url: string): string | null => {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname.toLowerCase().replace(/\.$/, '') : null;
  } catch {
    return null;
  }
};

/** Registrable part, approximately (last two labels, three for second-level public suffixes like co.uk). */
export function baseDomain(host: string): string {
  const labels = host.toLowerCase().split('.').filter(Boolean);
  if (labels.length <= 2) return labels.join('.');
  const sld = labels[labels.length - 2]!;
  const twoLevel = /^(co|com|net|org|gov|ac|edu|nhs|mil)$/.test(sld) && labels[labels.length - 1]!.length === 2;
  return labels.slice(twoLevel ? -3 : -2).join('.');
}

const domainOfAddress = (addr: string | undefined | null) => (addr && addr.includes('@') ? addr.split('@').pop()!.toLowerCase().replace(/[>\s]/g, '') : null);

/** Letters that look alike, folded to one, so "rnicrosoft" and "micr0soft" match "microsoft" (Unicode TR39 skeleton, in small). */
function skeleton(s: string): string {
  const map: Record<string, string> = { '0': 'o', '1': 'l', i: 'l', '3': 'e', '5': 's', '@': 'a', '$': 's', 'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x', 'і': 'l', 'ӏ': 'l', 'ԁ': 'd', 'ɡ': 'g', 'ο': 'o', 'α': 'a', 'ν': 'v' };
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/cl/g, 'd')
    .split('')
    .map((c) => map[c] ?? c)
    .join('');
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      // Adjacent letters swapped count as one edit (optimal string alignment distance).
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** Which known name a domain imitates without being it, if any. */
export function lookalikeOf(host: string, known: readonly string[]): string | null {
  const base = baseDomain(domainToUnicode(host) || host);
  const label = base.split('.')[0]!;
  const parts = label.split('-');
  for (const k of known) {
    const kl = k.includes('.') ? baseDomain(k).split('.')[0]! : k;
    if (label === kl) continue;
    for (const part of parts) {
      // The brand as one part of a longer name: "microsoft-support", "paypal-secure".
      if (kl.length >= 5 && part === kl && parts.length > 1) return k;
      if (part === kl) continue;
      if (kl.length >= 4 && skeleton(part) === skeleton(kl)) return k;
      if (kl.length >= 6 && editDistance(part, kl) === 1) return k;
    }
    if (parts.length > 1 && kl.length >= 4 && skeleton(label) === skeleton(kl)) return k;
    // Whole-name typosquats (dnstwist's classes): a hyphen added or dropped, one letter added,
    // dropped, swapped or replaced: "st-marys-hospital" or "stmarys-hospita1" for "stmarys-hospital".
    const bare = label.replace(/-/g, '');
    const kbare = kl.replace(/-/g, '');
    if (label !== kl) {
      if (kbare.length >= 6 && (bare === kbare || editDistance(bare, kbare) === 1 || skeleton(bare) === skeleton(kbare))) return k;
    }
  }
  return null;
}

function linksOf(mail: ParsedMail): Link[] {
  const links: Link[] = [];
  const html = typeof mail.html === 'string' ? mail.html : '';
  for (const m of html.matchAll(/<a\b[^>]*?\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))[^>]*>([\s\S]*?)<\/a\s*>/gi)) {
    const href = (m[2] ?? m[3] ?? m[4] ?? '').trim().replace(/&amp;/g, '&');
    const text = (m[5] ?? '').replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
    links.push({ text, href });
  }
  if (!links.length && mail.text) for (const m of mail.text.matchAll(/https?:\/\/[^\s<>"')\]]+/gi)) links.push({ text: m[0], href: m[0] });
  return links.slice(0, 500);
}

function addresses(a: AddressObject | AddressObject[] | undefined) {
  return (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value);
}

/** Authentication-Results (RFC 8601) as added by the receiving server: spf, dkim, dmarc results. */
export function authResults(mail: ParsedMail): { spf?: string; dkim?: string; dmarc?: string } | null {
  const lines = mail.headerLines.filter((h) => h.key === 'authentication-results' || h.key === 'arc-authentication-results');
  if (!lines.length) return null;
  // The topmost header is the one our own boundary added; later ones could be forged by the sender.
  const first = lines[0]!.line.replace(/\r?\n\s+/g, ' ');
  const pick = (method: string) => new RegExp(`\\b${method}\\s*=\\s*([a-z]+)`, 'i').exec(first)?.[1]?.toLowerCase();
  return { spf: pick('spf'), dkim: pick('dkim'), dmarc: pick('dmarc') };
}

export interface CheckContext {
  /** Domains that belong to the organisation: lookalikes of these are flagged. */
  ownDomains: readonly string[];
}

export async function parseMail(raw: string | Buffer): Promise<ParsedMail> {
  return simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, maxHtmlLengthToParse: 2 * 1024 * 1024 });
}

export function analyse(mail: ParsedMail, ctx: CheckContext): MailCheckResult {
  const signs: WarningSign[] = [];
  const add = (code: string, severity: WarningSign['severity'], title: string, explanation: string, evidence: string | null = null) => {
    if (!signs.some((s) => s.code === code)) signs.push({ code, severity, title, explanation, evidence: evidence?.slice(0, 300) ?? null });
  };
  const from = addresses(mail.from)[0];
  const fromAddr = from?.address?.toLowerCase() ?? null;
  const fromDomain = domainOfAddress(fromAddr);
  const fromName = (from?.name ?? '').trim();
  const known = [...BRANDS, ...ctx.ownDomains];
  const bodyText = [mail.subject ?? '', mail.text ?? '', typeof mail.html === 'string' ? mail.html.replace(/<[^>]*>/g, ' ') : ''].join('\n').slice(0, 200_000);

  // 1. Sender authentication.
  const auth = authResults(mail);
  if (auth) {
    if (auth.dmarc === 'fail') add('dmarc_fail', 'high', 'The sender\'s domain did not vouch for this mail (DMARC failed)', `The receiving server checked whether ${fromDomain ?? 'the sender\'s domain'} authorised this mail, and it did not. Mail that fails DMARC is very often forged.`, `dmarc=${auth.dmarc}`);
    if (auth.spf && ['fail', 'softfail'].includes(auth.spf)) add('spf_fail', 'medium', 'Sent from a server the domain does not list (SPF failed)', 'The server that delivered this mail is not one the sender\'s domain allows to send for it.', `spf=${auth.spf}`);
    if (auth.dkim && ['fail', 'permerror'].includes(auth.dkim)) add('dkim_fail', 'medium', 'The mail\'s signature is broken (DKIM failed)', 'The mail carries a signature that does not match: it was altered or forged on the way.', `dkim=${auth.dkim}`);
    if ((!auth.spf || auth.spf === 'none') && (!auth.dkim || auth.dkim === 'none')) add('auth_none', 'low', 'The sender is not authenticated', 'Neither SPF nor DKIM vouch for this mail, so anyone could have sent it under this name.', `spf=${auth.spf ?? 'none'} dkim=${auth.dkim ?? 'none'}`);
  }

  // 2. Display name vs address.
  if (fromName && fromAddr) {
    const inName = /[\w.+-]+@[\w-]+(\.[\w-]+)+/.exec(fromName)?.[0]?.toLowerCase();
    if (inName && inName !== fromAddr) add('display_name_spoof', 'high', 'The name shows one address, the mail comes from another', `The sender's name contains "${inName}" but the mail really comes from ${fromAddr}. This is a common trick to look like someone you know.`, `${fromName} <${fromAddr}>`);
    // "PayPal Service" and "Wells Fargo" (squashed) both name a brand.
    const nameBrand = BRANDS.find((b) => b.length >= 3 && (new RegExp(`\\b${b}\\b`, 'i').test(fromName) || new RegExp(`^${b}\\b`, 'i').test(fromName.replace(/\s+/g, ''))) && !(fromDomain ?? '').includes(b));
    if (nameBrand && fromDomain) add('display_name_brand', 'high', 'The name claims a company the address does not belong to', `The sender calls itself "${fromName}", but writes from ${fromDomain}, which is not ${nameBrand}'s.`, `${fromName} <${fromAddr}>`);
    const own = ctx.ownDomains.map((d) => baseDomain(d));
    const toOwn = addresses(mail.to).concat(addresses(mail.cc)).some((a) => own.includes(baseDomain(domainOfAddress(a.address) ?? '')));
    if (own.length && toOwn && fromDomain && !own.includes(baseDomain(fromDomain)) && (INTERNAL_FUNCTION.test(fromName) || /\b(IT|ICT)\b/.test(fromName))) {
      add('impersonates_internal', 'medium', 'It claims to be a department of your own organisation, from outside it', `"${fromName}" sounds like one of your organisation's own services, but the mail comes from ${fromDomain}, not from your organisation's domain.`, `${fromName} <${fromAddr}>`);
    }
    if (fromDomain && FREE_MAIL.has(fromDomain) && /\b(support|service|desk|team|admin|administrator|security|it|hr|payroll|billing|account|accounts|department|office|bank|help|no-?reply|notification|system)\b/i.test(fromName)) {
      add('official_name_free_mail', 'medium', 'An official-sounding sender using a free mail account', `"${fromName}" writes from a personal ${fromDomain} address. Organisations send from their own domain.`, `${fromName} <${fromAddr}>`);
    }
  }

  // 3. Lookalike and punycode domains (sender, reply-to, links).
  const replyTo = addresses(mail.replyTo)[0]?.address?.toLowerCase() ?? null;
  const links = linksOf(mail);
  const hosts = new Set<string>([fromDomain, domainOfAddress(replyTo), ...links.map((l) => hostOf(l.href))].filter((h): h is string => Boolean(h)));
  for (const h of hosts) {
    if (h.split('.').some((l) => l.startsWith('xn--'))) {
      add('punycode_domain', 'high', 'A web or mail address written with look-alike letters', `${h} is an internationalised name that displays as "${domainToUnicode(h)}". Such names can copy a familiar one letter for letter with characters from other alphabets.`, h);
    }
    const like = lookalikeOf(h, known);
    if (like) add('lookalike_domain', 'high', 'An address that imitates a known name', `${h} resembles ${like} but is not it. Attackers register near-copies of names you trust.`, h);
  }
  if (fromDomain && /[^\x00-\x7f]/.test(fromDomain)) add('punycode_domain', 'high', 'A sender address written with look-alike letters', `The sender's domain ${fromDomain} contains non-Latin characters that can imitate a familiar name.`, fromDomain);

  // 4. Reply-To divergence.
  const replyDomain = domainOfAddress(replyTo);
  // Mailing lists set Reply-To to the list on purpose (RFC 2369 List-* headers mark them).
  const isList = mail.headerLines.some((h) => h.key === 'list-id' || h.key === 'list-post' || h.key === 'mailing-list');
  if (replyDomain && fromDomain && !isList && baseDomain(replyDomain) !== baseDomain(fromDomain)) {
    // A company that writes from its own domain but wants answers at a free mailbox: the BEC pattern.
    const toFree = FREE_MAIL.has(replyDomain) && !FREE_MAIL.has(fromDomain);
    add('reply_to_mismatch', toFree ? 'high' : 'medium', 'Replies go somewhere else', `The mail is from ${fromDomain}, but pressing Reply sends your answer to ${replyTo}.`, replyTo);
  }

  // 5. Links whose text and target differ, and other risky links.
  let deceptive = 0;
  for (const l of links) {
    const target = hostOf(l.href);
    if (/^(data:(text\/html|application|image\/svg)|vbscript:)/i.test(l.href)) add('embedded_page_link', 'high', 'A link that opens a page hidden inside the mail', 'A link in this mail opens a web page or script carried inside the link itself, not a site you could check.', l.href.slice(0, 80));
    else if (/^(javascript|data|vbscript):/i.test(l.href)) add('script_link', 'high', 'A link that runs code', 'A link in this mail runs a script or opens embedded content instead of a web page.', l.href.slice(0, 80));
    if (!target) continue;
    const shown = /(?:https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/:?#]\S*)?/i.exec(l.text)?.[1]?.toLowerCase();
    if (shown && baseDomain(shown) !== baseDomain(target) && /[./]/.test(l.text) && /^(?:https?:\/\/)?(?:[a-z0-9-]+\.)+[a-z]{2,}/i.test(l.text.trim())) {
      deceptive++;
      add('link_text_mismatch', 'high', 'A link shows one address but goes to another', `The link reads "${l.text.slice(0, 80)}" but actually leads to ${target}.`, `${l.text.slice(0, 80)} -> ${target}`);
      if (ctx.ownDomains.some((d) => baseDomain(d) === baseDomain(shown))) {
        add('own_link_disguised', 'high', 'A link shows your organisation\'s address but goes elsewhere', `The link shows ${shown}, your organisation's own address, but leads to ${target}.`, `${shown} -> ${target}`);
      }
    }
    if (/^\d{1,3}(\.\d{1,3}){3}$/.test(target) || target.startsWith('[')) add('ip_link', 'medium', 'A link to a bare network address', `A link goes to ${target}, a numeric address instead of a name. Legitimate services use names.`, target);
    if (/@/.test(l.href.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '')) add('userinfo_link', 'high', 'A link disguised with an @ sign', 'Everything before the @ in a web address is ignored by the browser; it is used to make the link look like a trusted site.', l.href.slice(0, 120));
    if (URL_SHORTENERS.has(target)) add('shortened_link', 'low', 'A shortened link hides where it goes', `The link uses ${target}, a link shortener, so you cannot see the destination.`, l.href.slice(0, 120));
    if (DOC_EXT.test(l.text.trim()) && !DOC_EXT.test(new URL(l.href).pathname)) add('fake_attachment_link', 'medium', 'A "document" that is really a link', `"${l.text.slice(0, 60)}" looks like a file, but it is a link to ${target}.`, target);
  }
  void deceptive;

  // 6. Language: urgency, credentials, generic greeting, QR codes.
  const urgency = URGENCY.map((r) => r.exec(bodyText)?.[0]).filter(Boolean) as string[];
  if (urgency.length) add('urgency', urgency.length > 1 ? 'medium' : 'low', 'It pushes you to act fast', 'Pressure and deadlines are meant to make you act before you think. Real requests leave time to check.', urgency.slice(0, 3).join('; '));
  const cred = CREDENTIAL.map((r) => r.exec(bodyText)?.[0]).filter(Boolean) as string[];
  const hasQr = QR_HINT.test(bodyText) && mail.attachments.some((a) => a.contentType.startsWith('image/'));
  // A QR code is a link the filters cannot see; an attached web page is a link too.
  const htmlAttachment = mail.attachments.some((a) => /^text\/html/i.test(a.contentType) || /\.(s?html?|xhtml|svg)$/i.test(a.filename ?? ''));
  const asksCredentials = cred.length > 0 && (links.length > 0 || hasQr || htmlAttachment || /<form\b/i.test(typeof mail.html === 'string' ? mail.html : ''));
  if (asksCredentials) add('credential_request', 'medium', 'It asks for your password, codes or payment details', 'It asks you to sign in, confirm or update details through a link. Your organisation never asks for passwords or codes by mail.', cred.slice(0, 3).join('; '));
  // Business e-mail compromise needs no link: it asks for money or gift cards directly.
  const payment = PAYMENT.map((r) => r.exec(bodyText)?.[0]).filter(Boolean) as string[];
  if (payment.length) add('payment_request', 'medium', 'It asks for money, gift cards or new bank details', 'Requests to buy gift cards, pay urgently or change bank details by mail are the heart of invoice and CEO fraud. Confirm by phone on a number you already know.', payment.slice(0, 3).join('; '));
  if (GENERIC_GREETING.test(mail.text ?? '')) add('generic_greeting', 'low', 'It does not know your name', 'It greets you generically; a sender who knows you would use your name.', GENERIC_GREETING.exec(mail.text ?? '')?.[0]?.trim() ?? null);
  // Hard-wrapped lines joined back into sentences (paragraph breaks kept).
  const flowed = bodyText.replace(/\r/g, '').replace(/([^\n])\n(?!\n)/g, '$1 ');
  const secret = SECRET_BY_MAIL.exec(flowed);
  let asksSecret = false;
  if (secret) {
    const sentenceStart = Math.max(flowed.lastIndexOf('.', secret.index), flowed.lastIndexOf('\n', secret.index), flowed.lastIndexOf('!', secret.index), 0);
    asksSecret = !NEGATED.test(flowed.slice(sentenceStart, secret.index + secret[0].length));
    if (asksSecret) add('secret_by_mail', 'high', 'It asks you to send a password or code', 'It asks you to send your password, a verification code or login details by reply. No genuine service or IT department asks for these by mail, ever.', secret[0]);
  }
  if (hasQr) {
    add('qr_code', 'medium', 'It asks you to scan a QR code', 'A QR code hides a link from your mail filters and sends you to your phone, where the address is harder to check.', null);
  }
  if (typeof mail.html === 'string' && /<form\b/i.test(mail.html)) {
    // Newsletters carry search and subscribe forms; a form asking for a password is another thing.
    const password = /<input\b[^>]*type\s*=\s*["']?password/i.test(mail.html) || /<input\b[^>]*name\s*=\s*["']?(pass|pwd|password|passwd)\b/i.test(mail.html);
    add('html_form', password ? 'high' : 'low', password ? 'The mail contains a password form' : 'The mail contains a form', 'A form inside a mail can send what you type straight to the sender.', null);
  }

  // 7. Attachments.
  const attachments = mail.attachments.map((a) => ({ filename: a.filename ?? null, contentType: a.contentType, size: a.size }));
  for (const a of mail.attachments) {
    const name = (a.filename ?? '').trim();
    if ((/^text\/html/i.test(a.contentType) || /\.(s?html?|xhtml|svg)$/i.test(name)) && a.size < 5 * 1024 * 1024) {
      // An attached web page opens locally, outside the mail filters: look at what it does.
      const page = a.content.toString('utf8');
      if (/<form\b|type\s*=\s*["']?password|<script\b|http-equiv\s*=\s*["']?refresh|\blocation(\.href)?\s*=|window\.open\(/i.test(page)) {
        add('html_attachment_active', 'high', 'An attached web page with a form or a redirect', `"${name || 'the attachment'}" is a web page that asks you to type something or sends you to another site when opened. This is how fake sign-in pages get past mail filters.`, name || a.contentType);
      }
    }
    if (/\.[a-z0-9]{2,4}\.[a-z0-9]{2,5}$/i.test(name) && DOC_EXT.test(name.replace(/\.[a-z0-9]+$/i, '')) && RISKY_EXT.test(name)) {
      add('double_extension', 'high', 'An attachment with a hidden file type', `"${name}" looks like a document but is really a ${name.split('.').pop()} file.`, name);
    } else if (/\.(doc|xls|ppt)m$|\.xlam$|\.(doc|xls)$/i.test(name) && /\benable (editing|content|macros?)\b/i.test(bodyText)) {
      add('enable_content_lure', 'high', 'It asks you to enable editing or macros in an attachment', `"${name}" can run code, and the mail asks you to enable editing or content, which is what lets it run.`, name);
    } else if (RISKY_EXT.test(name)) {
      add('risky_attachment', 'high', 'A risky attachment', `"${name}" is a type often used to deliver malware or fake sign-in pages (web pages, disk images, archives, scripts, macros). Do not open it.`, name);
    } else if (/^(text\/html|application\/(x-)?(zip|rar|7z|iso9660-image|x-iso9660-image|x-msdownload|hta|javascript))/i.test(a.contentType) && !DOC_EXT.test(name)) {
      add('risky_attachment', 'high', 'A risky attachment', `An attachment of type ${a.contentType} can hide a fake sign-in page or malware.`, name || a.contentType);
    }
  }

  const score = signs.reduce((n, s) => n + weight[s.severity], 0);
  const high = signs.some((s) => s.severity === 'high');
  // Signs no legitimate sender has a reason to show, whatever else the mail says.
  const decisive = signs.some((s) => ['secret_by_mail', 'double_extension', 'punycode_domain', 'html_attachment_active', 'userinfo_link', 'own_link_disguised', 'embedded_page_link', 'enable_content_lure'].includes(s.code));
  const asks = asksCredentials || asksSecret || payment.length > 0;
  const verdict: Verdict = score >= 6 || (high && asks) || decisive ? 'likely_phishing' : score >= 3 ? 'suspicious' : 'no_signs';
  signs.sort((a, b) => weight[b.severity] - weight[a.severity]);
  return {
    verdict,
    score,
    from: mail.from?.text ?? null,
    subject: mail.subject ?? null,
    date: mail.date ? mail.date.toISOString() : null,
    attachments,
    signs,
  };
}

export async function checkMail(raw: string | Buffer, ctx: CheckContext): Promise<MailCheckResult> {
  return analyse(await parseMail(raw), ctx);
}
