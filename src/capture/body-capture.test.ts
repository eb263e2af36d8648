import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BodyCapture } from './body-capture.js';

function capture(chunks: Buffer[], cap: number, encoding?: string) {
  const c = new BodyCapture(cap, true);
  for (const chunk of chunks) c.push(chunk);
  return c.finish('application/json', encoding);
}

describe('BodyCapture', () => {
  it('keeps a body under the cap whole, without a digest', () => {
    const body = capture([Buffer.from('{"instances": '), Buffer.from('[1.0, 2.0]}')], 1024);
    expect(Buffer.from(body!.bytes).toString()).toBe('{"instances": [1.0, 2.0]}');
    expect(body).toMatchObject({ size: 25, truncated: false, contentType: 'application/json' });
    expect(body?.sha256).toBeUndefined();
  });

  it('truncates past the cap but records the true size and the sha256 of every byte', () => {
    const parts = [Buffer.alloc(700, 'a'), Buffer.alloc(700, 'b'), Buffer.alloc(700, 'c')];
    const body = capture(parts, 1000);
    expect(body?.bytes.length).toBe(1000);
    expect(Buffer.from(body!.bytes).toString()).toBe('a'.repeat(700) + 'b'.repeat(300));
    expect(body).toMatchObject({ size: 2100, truncated: true });
    expect(body?.sha256).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  });

  it('counts only the size when the mode does not log this half', () => {
    const c = new BodyCapture(1000, false);
    c.push(Buffer.from('secret'));
    expect(c.size).toBe(6);
    expect(c.finish('text/plain', undefined)).toBeUndefined();
  });

  it('decodes gzip for the log while recording the wire size', () => {
    const json = JSON.stringify({ instances: Array.from({ length: 200 }, (_, i) => i) });
    const gz = zlib.gzipSync(json);
    const body = capture([gz], 1 << 20, 'gzip');
    expect(Buffer.from(body!.bytes).toString()).toBe(json);
    expect(body).toMatchObject({ size: gz.length, contentEncoding: 'gzip', truncated: false });
    expect(body?.stillEncoded).toBeUndefined();
  });

  it('never inflates a compression bomb past the cap: the log keeps the encoded bytes', () => {
    const bomb = zlib.gzipSync(Buffer.alloc(50 * 1024 * 1024)); // 50 MiB of zeros, ~50 KiB on the wire
    const body = capture([bomb], 64 * 1024, 'gzip');
    expect(body?.stillEncoded).toBe(true);
    expect(body?.bytes.length).toBeLessThanOrEqual(64 * 1024);
  });

  it('decodes what it can of a truncated gzip body', () => {
    const text = JSON.stringify({ instances: Array.from({ length: 5000 }, (_, i) => Math.sin(i)) });
    const gz = zlib.gzipSync(text);
    const body = capture([gz], Math.floor(gz.length / 2), 'gzip');
    expect(body?.stillEncoded).toBeUndefined();
    expect(body?.truncated).toBe(true);
    const decoded = Buffer.from(body!.bytes).toString();
    expect(text.startsWith(decoded)).toBe(true);
    expect(decoded.length).toBeGreaterThan(0);
  });
});
