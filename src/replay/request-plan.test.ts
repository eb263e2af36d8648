import { describe, expect, it } from 'vitest';
import type { ExchangeView } from '../api/view.js';
import { isInferenceRoute, planRequest, requestBody } from './request-plan.js';

function exchange(over: Partial<ExchangeView> = {}): ExchangeView {
  return {
    id: 'abc',
    complete: true,
    model: 'sklearn-iris',
    namespace: 'default',
    component: 'predictor',
    endpoint: '',
    source: 'http://localhost:9081/',
    method: null,
    url: null,
    time: '2026-08-21T10:15:30Z',
    requestTime: '2026-08-21T10:15:30Z',
    responseTime: '2026-08-21T10:15:30.01Z',
    latencyMs: 10,
    status: 200,
    errorCode: null,
    sampleWeight: 1,
    metadata: { 'X-Request-Id': ['r-1'] },
    annotations: {},
    request: {
      type: 'org.kubeflow.serving.inference.request',
      contentType: 'application/json',
      size: 4,
      truncated: false,
      originalSize: null,
      sha256: null,
      time: null,
      recordedTime: null,
      body: 'iVBO',
      bodyEncoding: 'base64',
    },
    response: null,
    ...over,
  };
}

const base = { path: '/v1/models/{model}:predict', pathRewrites: [], headers: [], replayId: true };

describe('planRequest', () => {
  it('infers the V1 predict path for KServe captures, keeps the content type, tags Ce-Id, drops metadata', () => {
    expect(planRequest(exchange(), base)).toEqual({
      ok: true,
      request: {
        method: 'POST',
        path: '/v1/models/sklearn-iris:predict',
        headers: { 'content-type': 'application/json', 'ce-id': 'replay-abc' },
      },
    });
  });

  it('uses the recorded method and url, then --rename-model and --path-rewrite', () => {
    const ex = exchange({ method: 'post', url: '/v2/models/old/infer?x=1' });
    const plan = planRequest(ex, {
      ...base,
      renameModel: 'candidate',
      pathRewrites: [{ from: '/v2/', to: '/prefix/v2/' }],
      headers: [{ name: 'x-request-id' }, { name: 'Authorization', value: 'Bearer t' }],
      replayId: false,
    });
    expect(plan).toEqual({
      ok: true,
      request: {
        method: 'POST',
        path: '/prefix/v2/models/candidate/infer?x=1',
        headers: { 'content-type': 'application/json', 'x-request-id': 'r-1', authorization: 'Bearer t' },
      },
    });
  });

  it('never lets a captured absolute URL pick the host', () => {
    const plan = planRequest(exchange({ url: 'http://elsewhere.example/v1/models/m:predict' }), base);
    expect(plan.ok && plan.request.path).toBe('/v1/models/m:predict');
  });

  it('skips what cannot be replayed faithfully', () => {
    expect(planRequest(exchange({ request: null }), base)).toMatchObject({
      ok: false,
      reason: /no request captured/,
    });
    const cut = exchange();
    cut.request = { ...cut.request!, truncated: true, originalSize: 100 };
    expect(planRequest(cut, base)).toMatchObject({ ok: false, reason: /truncated/ });
    expect(planRequest(exchange({ id: 'replay-abc' }), base)).toMatchObject({
      ok: false,
      reason: /earlier replay/,
    });
    // The default: the target did not trust the inbound id and kept it as metadata.
    expect(planRequest(exchange({ metadata: { 'Ce-Id': ['replay-abc'] } }), base)).toMatchObject({
      ok: false,
      reason: /earlier replay/,
    });
  });

  it('decodes base64 bodies to the exact bytes', () => {
    expect([...requestBody(exchange())]).toEqual([0x89, 0x50, 0x4e]);
  });
});

describe('isInferenceRoute', () => {
  it.each([
    ['POST', '/v1/models/sklearn-iris:predict'],
    ['POST', '/v1/models/sklearn-iris:explain'],
    ['POST', '/v2/models/simple-model/infer'],
    ['POST', '/v2/models/simple-model/versions/3/infer'],
    ['POST', '/v2/models/echo/generate_stream'],
    ['POST', '/openai/v1/completions'],
    ['POST', '/openai/v1/chat/completions?trace=1'],
  ])('%s %s is one', (method, path) => expect(isInferenceRoute(method, path)).toBe(true));

  it.each([
    ['DELETE', '/v2/repository/models/prod-model/unload?force=1'],
    ['POST', '/v2/repository/models/prod-model/load'],
    ['GET', '/v1/models/sklearn-iris:predict'],
    ['PUT', '/v2/models/m/infer'],
    ['POST', '/v1/models/m'],
    ['POST', '/v1/models/x:predict/../../admin'],
    ['POST', '/v2/models/../infer'],
    ['POST', '/v2/models/a%2F..%2Fb/infer'],
    ['POST', '/v1/models/a\\b:predict'],
    ['POST', '/openai/v1/embeddings'],
    ['POST', 'http://evil.example/v1/models/m:predict'],
    ['POST', '/v1/models/m:predict#frag'],
  ])('%s %s is not', (method, path) => expect(isInferenceRoute(method, path)).toBe(false));
});
