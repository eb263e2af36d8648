import { describe, expect, it } from 'vitest';
import { modelInPath } from '../core/model-in-path.js';
import { modelInBody, modelInBodyRoute } from './target.js';

const enc = new TextEncoder();

describe('which model a request targets', () => {
  it('reads V1/V2 paths, also for verbs and routes that are not served', () => {
    expect(modelInPath('/v1/models/iris:predict')).toBe('iris');
    expect(modelInPath('/v1/models/iris:explain')).toBe('iris');
    expect(modelInPath('/v2/models/my%20model/infer?x=1')).toBe('my model');
    expect(modelInPath('/v2/models/iris/versions/1/infer')).toBe('iris');
    expect(modelInPath('/v2/health/ready')).toBeUndefined();
    expect(modelInPath('/openai/v1/chat/completions')).toBeUndefined();
    expect(modelInPath('/v1/models/%E0:predict')).toBeUndefined();
  });

  it('takes OpenAI completions models from the body, and only a string model of a JSON object', () => {
    expect(modelInBodyRoute('/openai/v1/chat/completions')).toBe(true);
    expect(modelInBodyRoute('/openai/v1/completions?x')).toBe(true);
    expect(modelInBodyRoute('/openai/v1/models')).toBe(false);
    expect(modelInBody(enc.encode('{"model":"echo-llm","messages":[]}'))).toBe('echo-llm');
    expect(modelInBody(enc.encode('{"messages":[{"model":"x"}]}'))).toBeUndefined();
    expect(modelInBody(enc.encode('{"model":7}'))).toBeUndefined();
    expect(modelInBody(enc.encode('["model"]'))).toBeUndefined();
    expect(modelInBody(enc.encode('{"model":'))).toBeUndefined();
  });
});
