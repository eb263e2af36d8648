import { describe, expect, it } from 'vitest';
import type { RedactionOptions } from '../../config/settings.js';
import { compileRedaction } from './compile.js';

const policy = (over: Partial<RedactionOptions>): RedactionOptions => ({
  jsonPaths: [],
  patterns: [],
  forceHeaders: [],
  marker: '[REDACTED]',
  ...over,
});

describe('redaction policy compile', () => {
  it('works out once which streamed texts a path names, per stream kind', () => {
    const chat = compileRedaction(policy({ jsonPaths: ['choices[*].delta'] }));
    expect(Object.fromEntries(chat.streamTextNamed)).toEqual({
      'openai-chat': true,
      'openai-completion': false,
      'v2-generate': false,
      sse: true, // a generic stream could be any of them
    });
    const deep = compileRedaction(policy({ jsonPaths: ['**.text_output'] }));
    expect(deep.streamTextNamed.get('v2-generate')).toBe(true);
    expect(deep.streamTextNamed.get('openai-chat')).toBe(false);
    expect(compileRedaction(policy({ jsonPaths: ['ssn'] })).streamTextNamed.get('sse')).toBe(false);
  });

  it('says what is configured, so apply can skip what is not', () => {
    const none = compileRedaction(policy({}));
    expect([none.hasPaths, none.hasPatterns]).toEqual([false, false]);
    const both = compileRedaction(policy({ jsonPaths: ['a'], patterns: ['email'] }));
    expect([both.hasPaths, both.hasPatterns]).toEqual([true, true]);
  });

  it('refuses a bad policy with the message that names the problem', () => {
    expect(() => compileRedaction(policy({ jsonPaths: ['a['] }))).toThrow(/invalid JSON path "a\["/);
    expect(() => compileRedaction(policy({ patterns: ['phone'] }))).toThrow(/phone/);
    expect(() => compileRedaction(policy({ marker: '' }))).toThrow(/marker/);
  });
});
