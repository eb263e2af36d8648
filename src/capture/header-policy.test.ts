import { describe, expect, it } from 'vitest';
import { canonicalHeaderKey, createHeaderPolicy, isSecretHeader } from './header-policy.js';

const raw = [
  'Host',
  '127.0.0.1:8080',
  'x-request-id',
  '7f3c2a1e',
  'X-REQUEST-ID',
  'second',
  'Authorization',
  'Bearer s3cret',
  'Cookie',
  'session=abc',
  'X-Api-Key',
  'k-123',
  'x-openai-api-key',
  'sk-1',
  'Content-Type',
  'application/json',
];

describe('createHeaderPolicy', () => {
  it('captures allow-listed headers case-insensitively under Go-canonical keys, values in order', () => {
    const pick = createHeaderPolicy({ metadataHeaders: ['X-Request-Id', 'content-type'], forceHeaders: [] });
    expect(pick(raw)).toEqual({
      'X-Request-Id': ['7f3c2a1e', 'second'],
      'Content-Type': ['application/json'],
    });
  });

  it('captures KServe-style lists spelt in lower case too (KServe itself would capture nothing)', () => {
    const pick = createHeaderPolicy({ metadataHeaders: ['x-request-id'], forceHeaders: [] });
    expect(pick(raw)).toEqual({ 'X-Request-Id': ['7f3c2a1e', 'second'] });
  });

  it('never captures credentials, even when allow-listed', () => {
    const pick = createHeaderPolicy({
      metadataHeaders: ['Authorization', 'Cookie', 'X-Api-Key', 'X-OpenAI-Api-Key', 'X-Request-Id'],
      forceHeaders: [],
    });
    const got = pick(raw);
    expect(got).toEqual({ 'X-Request-Id': ['7f3c2a1e', 'second'] });
    expect(JSON.stringify(got)).not.toMatch(/s3cret|session=abc|k-123|sk-1/);
  });

  it('captures a secret header when forced and allow-listed, and only then', () => {
    expect(
      createHeaderPolicy({ metadataHeaders: ['authorization'], forceHeaders: ['Authorization'] })(raw),
    ).toEqual({
      Authorization: ['Bearer s3cret'],
    });
    expect(createHeaderPolicy({ metadataHeaders: [], forceHeaders: ['Authorization'] })(raw)).toEqual({});
  });

  it('always captures Inference-Header-Content-Length (V2 binary tensors: protocol, not a secret)', () => {
    const pick = createHeaderPolicy({ metadataHeaders: [], forceHeaders: [] });
    expect(pick([...raw, 'inference-header-content-length', '93'])).toEqual({
      'Inference-Header-Content-Length': ['93'],
    });
  });

  it('returns an empty record when nothing is allow-listed', () => {
    const pick = createHeaderPolicy({ metadataHeaders: [], forceHeaders: [] });
    expect(pick(raw)).toEqual({});
    expect(pick(raw)).not.toBe(pick(raw)); // callers may add to it
  });
});

describe('canonicalHeaderKey', () => {
  it.each([
    ['x-request-id', 'X-Request-Id'],
    ['CONTENT-TYPE', 'Content-Type'],
    ['ce-id', 'Ce-Id'],
    ['x_weird', 'X_weird'],
    ['bad header', 'bad header'],
  ])('%s → %s', (input, want) => expect(canonicalHeaderKey(input)).toBe(want));
});

describe('isSecretHeader', () => {
  it.each([
    'Authorization',
    'proxy-authorization',
    'Set-Cookie',
    'api-key',
    'X-Auth-Token',
    'X-Session-Id',
    'X-Db-Password',
    'x-amz-security-token',
  ])('%s is secret', (h) => expect(isSecretHeader(h)).toBe(true));
  it.each(['X-Request-Id', 'Content-Type', 'User-Agent', 'X-B3-TraceId', 'traceparent'])('%s is not', (h) =>
    expect(isSecretHeader(h)).toBe(false),
  );
});
