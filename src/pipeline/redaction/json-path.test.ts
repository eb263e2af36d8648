import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  compileJsonPaths,
  formatJsonPath,
  parseJsonPath,
  type JsonPath,
  type PathSegment,
} from './json-path.js';

describe('parseJsonPath', () => {
  it.each<[string, JsonPath]>([
    ['ssn', [{ kind: 'key', name: 'ssn' }]],
    ['$.ssn', [{ kind: 'key', name: 'ssn' }]],
    ['instances[*].ssn', [{ kind: 'key', name: 'instances' }, { kind: 'any' }, { kind: 'key', name: 'ssn' }]],
    [
      'a.b[0].c',
      [
        { kind: 'key', name: 'a' },
        { kind: 'key', name: 'b' },
        { kind: 'index', index: 0 },
        { kind: 'key', name: 'c' },
      ],
    ],
    ['**.password', [{ kind: 'deep' }, { kind: 'key', name: 'password' }]],
    ['a.*.b', [{ kind: 'key', name: 'a' }, { kind: 'any' }, { kind: 'key', name: 'b' }]],
    [
      "['user name']['a.b']",
      [
        { kind: 'key', name: 'user name' },
        { kind: 'key', name: 'a.b' },
      ],
    ],
    ['x-api-key', [{ kind: 'key', name: 'x-api-key' }]],
    ['**.**.k', [{ kind: 'deep' }, { kind: 'key', name: 'k' }]],
  ])('%s', (text, want) => expect(parseJsonPath(text)).toEqual(want));

  it.each([
    ['', /position 1: the path is empty/],
    ['a..b', /position 3: expected a field name, found "\."/],
    ['a[', /position 3: expected an index/],
    ['a[x]', /position 3:.*found "x"/],
    ['a.**', /"\*\*" must be followed by a field/],
    ["a['x", /unterminated quoted key/],
    ['a b', /position 2: expected "\." or "\[", found " "/],
    ['[01]', /leading zeros/],
    ['.a', /cannot start with "\."/],
    ['a.***', /not more stars/],
  ])('rejects %j with a message saying where', (text, msg) => {
    expect(() => parseJsonPath(text)).toThrow(msg);
    expect(() => parseJsonPath(text)).toThrow(`invalid JSON path "${text}"`);
  });

  it('prints what it parses: parse(format(p)) = p for any path', () => {
    const seg: fc.Arbitrary<PathSegment> = fc.oneof(
      fc.string({ minLength: 1, maxLength: 6 }).map((name) => ({ kind: 'key' as const, name })),
      fc.nat({ max: 1000 }).map((index) => ({ kind: 'index' as const, index })),
      fc.constant({ kind: 'any' as const }),
      fc.constant({ kind: 'deep' as const }),
    );
    const path = fc
      .array(seg, { minLength: 1, maxLength: 6 })
      .filter(
        (p) =>
          p[p.length - 1]?.kind !== 'deep' &&
          !p.some((s, i) => s.kind === 'deep' && p[i - 1]?.kind === 'deep'),
      );
    fc.assert(
      fc.property(path, (p) => {
        expect(parseJsonPath(formatJsonPath(p))).toEqual(p);
      }),
    );
  });
});

describe('compileJsonPaths', () => {
  /** Which concrete child paths a set of paths hits. */
  function hits(paths: string[], concrete: Array<string | number>): boolean {
    const m = compileJsonPaths(paths.map(parseJsonPath));
    let states = m.start();
    for (const step of concrete) {
      const r = typeof step === 'number' ? m.step(states, undefined, step) : m.step(states, step, 0);
      if (r.hit) return true;
      states = r.next;
    }
    return false;
  }

  it('anchors plain paths at the root', () => {
    expect(hits(['ssn'], ['ssn'])).toBe(true);
    expect(hits(['ssn'], ['user', 'ssn'])).toBe(false);
  });
  it('matches ** at any depth, including zero levels', () => {
    expect(hits(['**.password'], ['password'])).toBe(true);
    expect(hits(['**.password'], ['a', 3, 'b', 'password'])).toBe(true);
    expect(hits(['a.**.c'], ['a', 'c'])).toBe(true);
    expect(hits(['a.**.c'], ['a', 'x', 0, 'c'])).toBe(true);
    expect(hits(['a.**.c'], ['b', 'c'])).toBe(false);
  });
  it('matches keys case-insensitively, indices exactly, wildcards on arrays and objects', () => {
    expect(hits(['SSN'], ['ssn'])).toBe(true);
    expect(hits(['a[1]'], ['a', 1])).toBe(true);
    expect(hits(['a[1]'], ['a', 0])).toBe(false);
    expect(hits(['a[1]'], ['a', '1'])).toBe(false);
    expect(hits(['a[*].b'], ['a', 7, 'b'])).toBe(true);
    expect(hits(['a.*.b'], ['a', 'k', 'b'])).toBe(true);
  });
});
