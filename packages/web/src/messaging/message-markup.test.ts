import { describe, expect, it } from 'vitest';
import { parseMessageText } from './message-markup';

describe('parseMessageText', () => {
  it('keeps plain text, including HTML, as text', () => {
    expect(parseMessageText('Bed 12: <img src=x onerror=alert(1)> & more')).toEqual([
      { kind: 'text', text: 'Bed 12: <img src=x onerror=alert(1)> & more' },
    ]);
  });

  it('reads code, bold, italic and http(s) links', () => {
    expect(parseMessageText('Give `5 mg` **now**, _not_ later: https://example.org/protocol?id=3.')).toEqual([
      { kind: 'text', text: 'Give ' },
      { kind: 'code', text: '5 mg' },
      { kind: 'text', text: ' ' },
      { kind: 'strong', text: 'now' },
      { kind: 'text', text: ', ' },
      { kind: 'em', text: 'not' },
      { kind: 'text', text: ' later: ' },
      { kind: 'link', text: 'https://example.org/protocol?id=3', href: 'https://example.org/protocol?id=3' },
      { kind: 'text', text: '.' },
    ]);
  });

  it('links no other scheme and leaves snake_case alone', () => {
    expect(parseMessageText('javascript:alert(1) data:text/html,x patient_id_field')).toEqual([
      { kind: 'text', text: 'javascript:alert(1) data:text/html,x patient_id_field' },
    ]);
  });

  it('does not span lines', () => {
    expect(parseMessageText('**a\nb**')).toEqual([{ kind: 'text', text: '**a\nb**' }]);
  });
});
