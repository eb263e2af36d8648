import { describe, expect, it } from 'vitest';
import { echoGenerator } from './echo-model.js';

describe('echoGenerator', () => {
  it('echoes the prompt words as tokens that join back to the normalised prompt', () => {
    const g = echoGenerator.generate('  hello   big\nworld ', undefined);
    expect(g.tokens).toEqual(['hello', ' big', ' world']);
    expect(g.tokens.join('')).toBe('hello big world');
    expect(g).toMatchObject({ finishReason: 'stop', promptTokens: 3 });
  });

  it('stops at maxTokens with finish reason length, and counts the context as the prompt', () => {
    const g = echoGenerator.generate('a b c', 2, 'system says hi a b c');
    expect(g.tokens).toEqual(['a', ' b']);
    expect(g).toMatchObject({ finishReason: 'length', promptTokens: 6 });
    expect(echoGenerator.generate('', undefined).tokens).toEqual([]);
  });
});
