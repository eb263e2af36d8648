import { describe, expect, it } from 'vitest';
import { InferlogError } from '../../core/errors.js';
import { classifyStoreFailure } from './classify.js';

const where = 'gs://b/k';
const auth = 'key file /k.json';
const classify = (op: 'put' | 'get' | 'list', f: Parameters<typeof classifyStoreFailure>[1]) =>
  classifyStoreFailure(op, f, where, auth, new Error(f.message));

describe('classifyStoreFailure: what a retry can do about a store failure', () => {
  it('429, and 503 with Retry-After, are SINK_THROTTLED with the delay the store asked for', () => {
    const a = classify('put', { status: 429, retryAfter: '7', message: 'slow down' });
    expect([a.code, a.kind, a.retryAfterMs]).toEqual(['SINK_THROTTLED', 'throttle', 7000]);
    expect(classify('put', { status: 503, retryAfter: '2', message: '' }).code).toBe('SINK_THROTTLED');
  });

  it("S3's SlowDown and Azure's ServerBusy are throttling even without Retry-After", () => {
    expect(classify('put', { status: 503, code: 'SlowDown', message: '' }).code).toBe('SINK_THROTTLED');
    expect(classify('put', { status: 503, code: 'ServerBusy', message: '' }).code).toBe('SINK_THROTTLED');
  });

  it('other 5xx are SINK_SERVER_ERROR, 408 and timeouts SINK_TIMEOUT: both retryable', () => {
    expect(classify('put', { status: 503, message: '' }).code).toBe('SINK_SERVER_ERROR');
    expect(classify('put', { status: 500, message: '' }).kind).toBe('retryable');
    expect(classify('put', { status: 408, message: '' }).code).toBe('SINK_TIMEOUT');
    expect(classify('put', { code: 'ETIMEDOUT', message: 'x' }).code).toBe('SINK_TIMEOUT');
  });

  it('401 and 403 are permanent SINK_REJECTED naming which credentials were used', () => {
    const e = classify('put', { status: 403, code: 'AccessDenied', message: 'no' });
    expect([e.code, e.kind]).toEqual(['SINK_REJECTED', 'permanent']);
    expect(e.message).toContain(auth);
  });

  it('404 is NOT_FOUND on get, and SINK_REJECTED (no such bucket) on put and list', () => {
    expect(classify('get', { status: 404, message: '' }).code).toBe('NOT_FOUND');
    expect(classify('put', { status: 404, message: '' }).message).toContain(
      'does the bucket or container exist',
    );
    expect(classify('list', { status: 404, message: '' }).code).toBe('SINK_REJECTED');
  });

  it('no answer at all is SINK_UNREACHABLE; a TLS failure says so', () => {
    expect(classify('put', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }).code).toBe(
      'SINK_UNREACHABLE',
    );
    const tls = classify('put', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'x' });
    expect([tls.code, tls.message.includes('TLS')]).toEqual(['SINK_UNREACHABLE', true]);
  });

  it('credentials that cannot be found at all are SINK_REJECTED with how to give them', () => {
    const e = classify('put', { message: 'Could not load the default credentials.' });
    expect(e.code).toBe('SINK_REJECTED');
    expect(e.message).toContain(auth);
  });

  it("an aborted call is the abort's own InferlogError when it carries one", () => {
    const ac = new AbortController();
    const reason = new InferlogError('SINK_TIMEOUT', 'send timeout 5s');
    ac.abort(reason);
    expect(
      classifyStoreFailure('put', { message: 'aborted' }, where, auth, new Error('aborted'), ac.signal),
    ).toBe(reason);
  });

  it('a long multi-line store message becomes one bounded line', () => {
    const e = classify('put', {
      status: 400,
      message: `<Error>\n<Code>Bad</Code>\n${'x'.repeat(2000)}</Error>`,
    });
    expect(e.message).not.toContain('\n');
    expect(e.message.length).toBeLessThan(450);
  });
});
