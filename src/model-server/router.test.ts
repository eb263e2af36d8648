import { describe, expect, it } from 'vitest';
import { matchRoute } from './router.js';

describe('matchRoute', () => {
  it('matches every KServe route with its method and model', () => {
    expect(matchRoute('/v1/models/iris:predict')).toEqual({
      route: 'v1.predict',
      method: 'POST',
      model: 'iris',
    });
    expect(matchRoute('/v1/models/iris')).toEqual({ route: 'v1.model', method: 'GET', model: 'iris' });
    expect(matchRoute('/v2/models/iris/infer')).toEqual({ route: 'v2.infer', method: 'POST', model: 'iris' });
    expect(matchRoute('/v2/models/iris/ready')).toEqual({
      route: 'v2.model-ready',
      method: 'GET',
      model: 'iris',
    });
    expect(matchRoute('/v2/models/llm/generate_stream')).toMatchObject({
      route: 'v2.generate-stream',
      model: 'llm',
    });
    expect(matchRoute('/openai/v1/chat/completions')).toMatchObject({ route: 'openai.chat', method: 'POST' });
  });

  it('percent-decodes model names', () => {
    expect(matchRoute('/v1/models/my%20model:predict')?.model).toBe('my model');
    expect(matchRoute('/v2/models/a%2Fb')?.model).toBe('a/b');
  });

  it('matches nothing for unknown paths, verbs and malformed names', () => {
    for (const p of [
      '/v1/models/iris:explain',
      '/v1/models/:predict',
      '/v2/models/iris/x',
      '/v2/models/%E0%A4%A',
      '/v1/models/a/b',
      '/metrics',
    ]) {
      expect(matchRoute(p), p).toBeUndefined();
    }
  });
});
