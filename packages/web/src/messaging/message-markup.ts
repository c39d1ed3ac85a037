/**
 * Markdown-lite for message text: `code`, **bold**, _italic_ and http(s) links, nothing else.
 * The result is plain data that MessageText.tsx turns into React text and elements: the text is
 * never parsed as HTML, so a message cannot inject markup, scripts or other link schemes.
 */
export type MessageSegment =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'strong'; text: string }
  | { kind: 'em'; text: string }
  | { kind: 'link'; text: string; href: string };

const TOKEN = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\b_[^_\n]+_\b)|(https?:\/\/[^\s<>"]*[^\s<>".,;:!?)\]'])/g;

export function parseMessageText(text: string): MessageSegment[] {
  const out: MessageSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(TOKEN)) {
    const at = match.index;
    if (at > last) out.push({ kind: 'text', text: text.slice(last, at) });
    const [whole, code, bold, italic, url] = match;
    if (code) out.push({ kind: 'code', text: code.slice(1, -1) });
    else if (bold) out.push({ kind: 'strong', text: bold.slice(2, -2) });
    else if (italic) out.push({ kind: 'em', text: italic.slice(1, -1) });
    else if (url) out.push({ kind: 'link', text: url, href: url });
    last = at + whole.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}
