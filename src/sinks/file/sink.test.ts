import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { decodeRecord } from '../../formats/jsonl-record.js';
import { sinkContract } from '../sink.contract.js';
import { sinkUrlProblem } from '../schemes.js';
import { createFileSink } from './sink.js';

const options = { batchSize: 1, batchIntervalMs: 0, timeoutMs: 1000, tls: { skipVerify: false } };

function exchange(i: number, body = `{"instances":[${i}]}`): Exchange {
  return {
    id: `ex-${i}`,
    source: {
      inferenceService: 'm',
      namespace: 'ns',
      component: 'predictor',
      endpoint: '',
      sourceUri: 'x',
      annotations: {},
    },
    mode: 'all',
    method: 'POST',
    url: '/v1/models/m:predict',
    metadata: {},
    requestTime: 1_780_000_000_000 + i,
    responseTime: 1_780_000_000_002 + i,
    request: {
      bytes: Buffer.from(body),
      size: body.length,
      truncated: false,
      contentType: 'application/json',
    },
    status: 200,
    response: { bytes: Buffer.from([0xff, 0x00, 0x01]), size: 3, truncated: false },
    sampleWeight: 1,
  };
}

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('file sink', () => {
  it('appends one seed JSON line per exchange, creating the directory', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    const file = path.join(dir, 'logs/requests.jsonl');
    const sink = createFileSink(new URL(`file://${file}`), options);
    await sink.start();
    await sink.send([exchange(1), exchange(2)], new AbortController().signal);
    await sink.shutdown();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      id: 'ex-1',
      requestBody: '{"instances":[1]}',
      responseBody: '/wAB',
      responseBodyEncoding: 'base64',
    });
  });

  it('rotates at maxBytes and keeps maxFiles', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    const file = path.join(dir, 'r.jsonl');
    const sink = createFileSink(new URL(`file://${file}?maxBytes=2KiB&maxFiles=2`), options);
    await sink.start();
    for (let i = 0; i < 40; i++) await sink.send([exchange(i)], new AbortController().signal);
    await sink.shutdown();
    expect(readdirSync(dir).sort()).toEqual(['r.1.jsonl', 'r.2.jsonl', 'r.jsonl']);
    const newest = readFileSync(path.join(dir, 'r.jsonl'), 'utf8').trim().split('\n');
    expect(JSON.parse(newest.at(-1) as string).id).toBe('ex-39');
    expect(readFileSync(path.join(dir, 'r.1.jsonl')).length).toBeGreaterThanOrEqual(2048);
  });

  it('creates its log files 0600 and missing directories 0700, whatever the umask (rotated ones too)', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    const file = path.join(dir, 'logs/deep/r.jsonl');
    const old = process.umask(0);
    try {
      const sink = createFileSink(new URL(`file://${file}?maxBytes=2KiB&maxFiles=2`), options);
      await sink.start();
      for (let i = 0; i < 40; i++) await sink.send([exchange(i)], new AbortController().signal);
      await sink.shutdown();
    } finally {
      process.umask(old);
    }
    const mode = (p: string): number => statSync(p).mode & 0o777;
    expect(mode(path.join(dir, 'logs'))).toBe(0o700);
    expect(mode(path.join(dir, 'logs/deep'))).toBe(0o700);
    for (const f of readdirSync(path.dirname(file)))
      expect([f, mode(path.join(dir, 'logs/deep', f))]).toEqual([f, 0o600]);
  });

  it('writes lossless records with format=record', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    const file = path.join(dir, 'records.jsonl');
    const sink = createFileSink(new URL(`file://${file}?format=record`), options);
    await sink.start();
    const original = exchange(7);
    await sink.send([original], new AbortController().signal);
    await sink.shutdown();
    const back = decodeRecord(readFileSync(file, 'utf8').trim());
    expect(back.id).toBe('ex-7');
    expect(Buffer.from(back.response!.bytes)).toEqual(Buffer.from([0xff, 0x00, 0x01]));
  });

  it('writes one row per prediction to a sibling .instances.jsonl with log-instances, the exchange log unchanged', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    const file = path.join(dir, 'requests.jsonl');
    const skipped: string[] = [];
    let rows = 0;
    const sink = createFileSink(new URL(`file://${file}?format=record`), {
      ...options,
      logInstances: true,
      instances: { written: (n) => (rows += n), skipped: (reason) => skipped.push(reason) },
    });
    await sink.start();
    const iris = {
      ...exchange(1, '{"instances":[[6.8,2.8,4.8,1.4],[5.1,3.5,1.4,0.2]]}'),
      response: { bytes: Buffer.from('{"predictions":[1,0]}'), size: 21, truncated: false },
    };
    // exchange(2)'s response is not JSON: no rows, counted.
    await sink.send([iris, exchange(2)], new AbortController().signal);
    await sink.shutdown();
    expect(
      readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => decodeRecord(l).id),
    ).toEqual(['ex-1', 'ex-2']);
    const lines = readFileSync(path.join(dir, 'requests.instances.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        kind: 'instance',
        exchangeId: 'ex-1',
        model: 'm',
        namespace: 'ns',
        component: 'predictor',
        time: new Date(1_780_000_000_001).toISOString(),
        index: 0,
        input: [6.8, 2.8, 4.8, 1.4],
        prediction: 1,
        sampleWeight: 1,
      },
      expect.objectContaining({ exchangeId: 'ex-1', index: 1, input: [5.1, 3.5, 1.4, 0.2], prediction: 0 }),
    ]);
    expect(rows).toBe(2);
    expect(skipped).toEqual(['not_json']);
    expect(statSync(path.join(dir, 'requests.instances.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('writes no instance file without log-instances', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    const file = path.join(dir, 'requests.jsonl');
    const sink = createFileSink(new URL(`file://${file}`), options);
    await sink.start();
    await sink.send([exchange(1)], new AbortController().signal);
    await sink.shutdown();
    expect(readdirSync(dir)).toEqual(['requests.jsonl']);
  });

  it('fails to start with a clear error when the path cannot be opened', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    // Not under /proc: Node 20's mkdirSync({ recursive: true }) loops forever there (ENOENT on every try).
    const sink = createFileSink(new URL('file:///dev/null/no-such-dir/x.jsonl'), options);
    await expect(sink.start()).rejects.toMatchObject({
      code: 'SINK_IO',
      message: expect.stringContaining('/dev/null/no-such-dir/x.jsonl'),
    });
  });

  it('rejects an unknown format at construction', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-file-'));
    expect(() => createFileSink(new URL('file:///tmp/x.jsonl?format=xml'), options)).toThrow(
      /format must be line or record/,
    );
  });
});

sinkContract('file', {
  async create() {
    const root = mkdtempSync(path.join(tmpdir(), 'inferlog-file-contract-'));
    const file = path.join(root, 'requests.jsonl');
    const read = (): string => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    };
    return {
      sink: createFileSink(new URL(`file://${file}?format=record`), options),
      delivered: async () =>
        read()
          .split('\n')
          .filter(Boolean)
          .map((line) => decodeRecord(line).id),
      close: async () => rmSync(root, { recursive: true, force: true }),
    };
  },
});

describe('file sink URL', () => {
  it('rejects unknown parameters and bad values when the config loads, naming the parameter', () => {
    expect(sinkUrlProblem('file:///tmp/x.jsonl?maxbytes=1MiB')).toMatch(/unknown parameter "maxbytes"/);
    expect(sinkUrlProblem('file:///tmp/x.jsonl?fsync=yes')).toMatch(/fsync must be true or false/);
    expect(sinkUrlProblem('file:///tmp/x.jsonl?maxBytes=lots')).toMatch(/maxBytes: .*e\.g\. 1048576/);
    expect(sinkUrlProblem('file:///tmp/logs/')).toMatch(/names a directory/);
    expect(sinkUrlProblem('file:///tmp/x.jsonl?format=record&maxFiles=3')).toBeUndefined();
  });
});
