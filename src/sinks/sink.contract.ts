/**
 * The contract every Sink keeps, as one shared vitest suite (like hono's common router cases).
 * A sink's test file calls it with a harness that builds the sink against a real destination
 * and reads back what that destination holds:
 *
 *   sinkContract('http', {
 *     async create() {
 *       const server = await startRecorder();
 *       return { sink: createHttpSink(new URL(server.url), opts), delivered: async () => idsIn(server), close: () => server.close() };
 *     },
 *   });
 *
 * Test-only: imports vitest, so nothing in the program may import it.
 */
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../core/exchange.js';
import { InferlogError } from '../core/errors.js';
import type { Sink } from './sink.js';

export interface SinkUnderTest {
  sink: Sink;
  /** Ids of the exchanges the destination holds now (a destination may hold one record per event: repeats are fine). */
  delivered(): Promise<string[]>;
  /** Stops the destination. */
  close(): Promise<void>;
}

export interface SinkContractHarness {
  create(): Promise<SinkUnderTest>;
}

const enc = new TextEncoder();

/** A plain exchange for contract tests; every field a sink may read is set. */
export function contractExchange(id: string, overrides: Partial<Exchange> = {}): Exchange {
  return {
    id,
    source: {
      inferenceService: 'iris',
      namespace: 'ns',
      component: 'predictor',
      endpoint: '',
      sourceUri: 'http://localhost:9081/',
      annotations: {},
    },
    mode: 'all',
    method: 'POST',
    url: '/v1/models/iris:predict',
    metadata: {},
    requestTime: 1_790_000_000_000.25,
    responseTime: 1_790_000_000_004.5,
    request: {
      bytes: enc.encode('{"instances":[[1,2]]}'),
      contentType: 'application/json',
      size: 21,
      truncated: false,
    },
    status: 200,
    response: {
      bytes: enc.encode('{"predictions":[1]}'),
      contentType: 'application/json',
      size: 19,
      truncated: false,
    },
    sampleWeight: 1,
    ...overrides,
  };
}

async function withSink<T>(harness: SinkContractHarness, fn: (s: SinkUnderTest) => Promise<T>): Promise<T> {
  const s = await harness.create();
  try {
    return await fn(s);
  } finally {
    await s.sink.shutdown();
    await s.close();
  }
}

export function sinkContract(label: string, harness: SinkContractHarness): void {
  const live = (): AbortSignal => new AbortController().signal;

  describe(`Sink contract: ${label}`, () => {
    it('has a name and a positive integer maxBatch', () =>
      withSink(harness, async ({ sink }) => {
        expect(sink.name.length).toBeGreaterThan(0);
        expect(Number.isInteger(sink.maxBatch) && sink.maxBatch >= 1).toBe(true);
      }));

    it('start and shutdown are idempotent', () =>
      withSink(harness, async ({ sink }) => {
        await sink.start();
        await sink.start();
        await sink.shutdown();
        await sink.shutdown();
      }));

    it('resolves a send only once every exchange of the batch is at the destination', () =>
      withSink(harness, async ({ sink, delivered }) => {
        await sink.start();
        const n = Math.min(sink.maxBatch, 10);
        const batch = Array.from({ length: n }, (_, i) => contractExchange(`contract-${i}`));
        await sink.send(batch, live());
        const got = new Set(await delivered());
        for (const ex of batch) expect(got.has(ex.id), `exchange ${ex.id} delivered`).toBe(true);
      }));

    it('delivers every mode, binary bodies, failed exchanges and empty bodies', () =>
      withSink(harness, async ({ sink, delivered }) => {
        await sink.start();
        const batch = [
          contractExchange('mode-request', { mode: 'request' }),
          contractExchange('mode-response', { mode: 'response', request: undefined }),
          contractExchange('binary', {
            request: {
              bytes: new Uint8Array([0, 0xff, 0x89, 0x50]),
              contentType: 'application/octet-stream',
              size: 4,
              truncated: false,
            },
          }),
          contractExchange('failed', {
            status: 502,
            response: undefined,
            error: { code: 'UPSTREAM_UNREACHABLE', message: 'refused' },
          }),
          contractExchange('empty', {
            method: 'GET',
            request: { bytes: new Uint8Array(0), size: 0, truncated: false },
          }),
        ];
        for (let i = 0; i < batch.length; i += sink.maxBatch)
          await sink.send(batch.slice(i, i + sink.maxBatch), live());
        const got = new Set(await delivered());
        for (const ex of batch) expect(got.has(ex.id), `exchange ${ex.id} delivered`).toBe(true);
      }));

    it('resolves an empty batch', () =>
      withSink(harness, async ({ sink }) => {
        await sink.start();
        await sink.send([], live());
      }));

    it('settles promptly when the signal is already aborted, rejecting only with an InferlogError', () =>
      withSink(harness, async ({ sink }) => {
        await sink.start();
        const ac = new AbortController();
        ac.abort();
        const outcome = await sink.send([contractExchange('aborted')], ac.signal).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (outcome !== undefined) {
          expect(outcome).toBeInstanceOf(InferlogError);
          expect((outcome as InferlogError).code).toMatch(/^SINK_/);
        }
      }));

    it('rejects sends after shutdown with an InferlogError, or delivers them', () =>
      withSink(harness, async ({ sink, delivered }) => {
        await sink.start();
        await sink.shutdown();
        const outcome = await sink.send([contractExchange('late')], live()).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (outcome === undefined) expect(await delivered()).toContain('late');
        else expect(outcome).toBeInstanceOf(InferlogError);
      }));
  });
}
