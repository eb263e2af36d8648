import { describe, expect, it } from 'vitest';
import { compileScrubbers, findCards, luhnValid, parsePattern } from './redaction-patterns.js';

const scrub = (patterns: string[], text: string): string => compileScrubbers(patterns, '[X]').scrub(text);

describe('built-in scrubbers', () => {
  it('email', () => {
    expect(scrub(['email'], 'mail jane.doe+tag@mail.example.co.uk today')).toBe('mail [X] today');
    expect(scrub(['email'], '/predict?u=a@b.com')).toBe('/predict?u=[X]');
  });
  it('card: only Luhn-valid 13–19 digit numbers, grouped or not', () => {
    expect(scrub(['card'], 'card 4111 1111 1111 1111 ok')).toBe('card [X] ok');
    expect(scrub(['card'], 'card 4111-1111-1111-1111')).toBe('card [X]');
    expect(scrub(['card'], '5500000000000004')).toBe('[X]');
    expect(scrub(['card'], 'order 4111 1111 1111 1112')).toBe('order 4111 1111 1111 1112'); // fails Luhn
    expect(scrub(['card'], 'id 12345678901234567890')).toBe('id 12345678901234567890'); // 20 digits, not a card
    expect(scrub(['card'], 'qty 5 4111 1111 1111 1111')).not.toContain('4111');
    expect(scrub(['card'], '4111111111111111 5500000000000004')).toBe('[X] [X]');
  });
  it('ssn, ipv4, bearer-token, jwt', () => {
    expect(scrub(['ssn'], 'ssn 123-45-6789.')).toBe('ssn [X].');
    expect(scrub(['ipv4'], 'from 10.0.0.255 and 999.1.1.1')).toBe('from [X] and 999.1.1.1');
    expect(scrub(['bearer-token'], 'Authorization: Bearer abc.def-ghi==')).toBe('Authorization: [X]');
    expect(scrub(['jwt'], 'tok eyJhbGciOi.eyJzdWIiOi.sig_-x end')).toBe('tok [X] end');
  });
  it('luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(findCards('4111 1111 1111 1111')).toEqual([[0, 19]]);
  });
});

describe('parsePattern', () => {
  it('accepts name=regex, with (?i) for case-insensitive', () => {
    expect(scrub(['ticket=TCK-[0-9]+'], 'see TCK-123')).toBe('see [X]');
    expect(scrub(['ticket=(?i)tck-[0-9]+'], 'see TCK-123')).toBe('see [X]');
  });
  it.each([
    ['phone', /unknown redaction pattern "phone": use a built-in \(email, card/],
    ['x=(', /invalid redaction pattern "x=\("/],
    ['x=a*', /matches the empty string/],
    ['1x=a', /name before "="/],
    ['x=', /regex after "=" is empty/],
  ])('rejects %j', (text, msg) => expect(() => parsePattern(text)).toThrow(msg));
  it('rejects a name listed twice', () =>
    expect(() => compileScrubbers(['email', 'email'], '[X]')).toThrow(/listed twice/));
});

describe('card false positives', () => {
  it('leaves epoch-millisecond timestamps alone, even when they pass Luhn', () => {
    const ts = Array.from({ length: 200 }, (_, i) => String(1764100000000 + i * 7919));
    expect(ts.some((t) => luhnValid(t))).toBe(true);
    for (const t of ts) expect(scrub(['card'], `{"ts":${t}}`)).toBe(`{"ts":${t}}`);
  });
});
