import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileJsonPaths, parseJsonPath } from './json-path.js';
import { compileScrubbers } from './patterns.js';
import { redactJsonText } from './json.js';
import { isInferlogError } from '../../core/errors.js';

const noPaths = compileJsonPaths([]);
const noScrub = compileScrubbers([], '[R]');

function accepts(text: string): boolean {
  try {
    redactJsonText(text, noPaths, noScrub, '[R]');
    return true;
  } catch (err) {
    if (isInferlogError(err, 'BODY_NOT_JSON')) return false;
    throw err;
  }
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('redactJsonText', () => {
  it('accepts exactly what JSON.parse accepts (so fail-closed decisions are right), and changes nothing without rules', () => {
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', '"', '\\', ',', '}', ']', '{', '[', 'x', ' ', '\u0001', '-', '.', 'e', '0'),
      )
      .map(([j, at, ch]) => {
        const k = at % (j.length + 1);
        return j.slice(0, k) + ch + j.slice(k + (at % 2));
      });
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutated), (text) => {
        expect(accepts(text)).toBe(parses(text));
        if (parses(text)) expect(redactJsonText(text, noPaths, noScrub, '[R]').text).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('replaces every value a path names with the marker, and the result parses to the same document otherwise', () => {
    const paths = compileJsonPaths(['**.k'].map(parseJsonPath));
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify({ k: 1, v: value, n: [{ k: value }] });
        const out = JSON.parse(redactJsonText(text, paths, noScrub, '[R]').text) as Record<string, unknown>;
        const strip = (v: unknown): unknown =>
          Array.isArray(v)
            ? v.map(strip)
            : v && typeof v === 'object'
              ? Object.fromEntries(
                  Object.entries(v).map(([k, x]) => [k, k.toLowerCase() === 'k' ? '[R]' : strip(x)]),
                )
              : v;
        expect(out).toEqual(strip(JSON.parse(text)));
      }),
    );
  });
});
