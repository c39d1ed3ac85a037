import type { PhishCue, PhishTemplate } from '@consilium/protocol';

/**
 * Server-rendered pages of the simulation: the landing page (a look-alike form) and the teachable
 * moment. They run under the app's strict CSP: no inline script or style; the script and the
 * stylesheet are served from /t/landing.js and /t/landing.css.
 */

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><link rel="icon" href="/favicon.svg" type="image/svg+xml"><title>${esc(title)}</title><link rel="stylesheet" href="/t/landing.css"></head>
<body>${body}</body></html>`;

const labels: Record<string, string> = {
  username: 'Username',
  password: 'Password',
  otp_code: 'Code from your authenticator app',
  email: 'E-mail address',
  name: 'Full name',
  address: 'Delivery address',
  card_number: 'Card number',
  card_expiry: 'Expiry (MM/YY)',
  card_cvc: 'Security code',
  iban: 'IBAN',
};

const inputType = (f: string) => (f === 'password' || f === 'card_cvc' ? 'password' : f === 'email' ? 'email' : 'text');

/**
 * The look-alike page. `clickId` binds the script's confirmation to this fetch; `token` is the
 * recipient's tracking id (or a random one for an unknown id, so the page looks the same).
 */
export function landingPage(landing: PhishTemplate['landing'], token: string, clickId: string): string {
  const fields = landing.fields
    .map((f) => `<label>${esc(labels[f] ?? f)}<input name="${esc(f)}" type="${inputType(f)}" autocomplete="off"></label>`)
    .join('\n');
  const action = landing.kind === 'download' ? 'Sign in to download' : landing.kind === 'form' ? 'Continue' : 'Sign in';
  return page(
    landing.title,
    `<main class="landing" id="landing" data-token="${esc(token)}" data-click="${esc(clickId)}">
<h1>${esc(landing.title)}</h1>
<form method="post" action="/t/s/${esc(token)}" id="lure">
<input type="hidden" name="_click" value="${esc(clickId)}"><input type="hidden" name="_js" value="" id="js-flag">
${fields}
<button type="submit">${esc(action)}</button>
</form>
</main>
<script src="/t/landing.js"></script>`,
  );
}

function highlight(text: string, cues: readonly PhishCue[]): string {
  // Mark every cue excerpt, longest first, without marking inside a mark already placed.
  const spans: { start: number; end: number; cue: number }[] = [];
  cues
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.excerpt)
    .sort((a, b) => b.c.excerpt.length - a.c.excerpt.length)
    .forEach(({ c, i }) => {
      let from = 0;
      for (;;) {
        const at = text.indexOf(c.excerpt, from);
        if (at < 0) break;
        const end = at + c.excerpt.length;
        if (!spans.some((s) => at < s.end && end > s.start)) spans.push({ start: at, end, cue: i });
        from = end;
      }
    });
  spans.sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const s of spans) {
    out += esc(text.slice(pos, s.start)) + `<mark title="${esc(cues[s.cue]!.label)}">${esc(text.slice(s.start, s.end))}<sup>${s.cue + 1}</sup></mark>`;
    pos = s.end;
  }
  return out + esc(text.slice(pos));
}

export interface MomentMail {
  subject: string;
  from: string;
  text: string;
  cues: readonly PhishCue[];
}

/**
 * The teachable moment (well under 90 seconds to read): this was a drill, here is the very mail
 * with what gave it away, and how to report next time. `mail` is null for an unknown id.
 */
export function momentPage(token: string, mail: MomentMail | null, completed: boolean): string {
  const cues = mail
    ? `<ol class="cues">${mail.cues.map((c) => `<li><strong>${esc(c.label)}</strong>: ${esc(c.explanation)}</li>`).join('')}</ol>`
    : '';
  const shown = mail
    ? `<section class="mail"><p class="meta">From: ${highlight(mail.from, mail.cues)}<br>Subject: ${highlight(mail.subject, mail.cues)}</p><pre>${highlight(mail.text, mail.cues)}</pre></section>`
    : '';
  const done = completed
    ? '<p class="done">Thank you: this lesson is marked as completed.</p>'
    : `<form method="post" action="/t/m/${esc(token)}/done"><button type="submit">I have read this</button></form>`;
  return page(
    'This was a phishing drill',
    `<main class="moment">
<h1>This was a phishing drill, and no harm was done</h1>
<p>The mail you opened was a training exercise from your organisation's security team. Nothing you typed was stored: we only record that the form was sent, never what was in it.</p>
${shown}
<h2>What could have given it away</h2>
${cues || '<p>Look at the sender address, the link target (hover before you click), urgency, and any request for your password.</p>'}
<h2>Next time</h2>
<p>Do not click. Use <strong>Report phishing</strong> in Consilium, or forward the mail to your security team's report address. Reporting fast protects your colleagues: the security team can block a real attack within minutes.</p>
${done}
</main>`,
  );
}

/** Confirms a person after a real interaction; fills the form's _js flag so a submission is credited too. */
export const LANDING_SCRIPT = `(function () {
  var root = document.getElementById('landing');
  if (!root) return;
  var flag = document.getElementById('js-flag');
  var sent = false;
  function confirmPerson() {
    if (sent) return;
    sent = true;
    if (flag) flag.value = '1';
    fetch('/t/c/' + root.dataset.token + '/confirm', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ click: root.dataset.click }),
      credentials: 'omit',
      keepalive: true
    }).catch(function () {});
  }
  ['pointerdown', 'pointermove', 'keydown', 'touchstart', 'scroll'].forEach(function (e) {
    window.addEventListener(e, confirmPerson, { once: true, passive: true });
  });
  var form = document.getElementById('lure');
  if (form) form.addEventListener('submit', confirmPerson);
})();
`;

export const LANDING_CSS = `body{font-family:system-ui,sans-serif;background:#f3f5f8;margin:0;color:#1c2430}
main{max-width:34rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
label{display:block;margin:.8rem 0}input{display:block;width:100%;padding:.5rem;margin-top:.3rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;background:#1f5fbf;color:#fff;border:0;border-radius:4px;cursor:pointer}
.moment{max-width:44rem}.mail{border:1px solid #ccd;padding:1rem;background:#fafbfc}.mail pre{white-space:pre-wrap;font-family:inherit}
mark{background:#ffe08a;padding:0 .1rem}mark sup{color:#8a5a00;font-weight:bold}.cues li{margin:.4rem 0}.done{color:#176b2c;font-weight:bold}`;

/** 1x1 transparent GIF. */
export const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
