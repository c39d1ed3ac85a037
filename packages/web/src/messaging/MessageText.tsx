import { parseMessageText } from './message-markup';

/** A message's text with the Markdown-lite subset of message-markup.ts; never HTML. */
export function MessageText({ text }: { text: string }) {
  return (
    <p className="message-text">
      {parseMessageText(text).map((segment, i) => {
        switch (segment.kind) {
          case 'text':
            return segment.text;
          case 'code':
            return <code key={i}>{segment.text}</code>;
          case 'strong':
            return <strong key={i}>{segment.text}</strong>;
          case 'em':
            return <em key={i}>{segment.text}</em>;
          case 'link':
            return (
              <a key={i} href={segment.href} target="_blank" rel="noopener noreferrer">
                {segment.text}
              </a>
            );
        }
      })}
    </p>
  );
}
