// Hostile inference clients against a real agent → real collector (issue 16, items 1, 4, 5 and the fuzz test).
// Whatever a client sends, it gets its answer, and its exchange is stored as its own (or counted as
// dropped with a reason): never forged, merged into another, or silently lost.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';

interface Stored {
  id: string;
  complete: boolean;
  model: string;
  namespace: string;
  status: number | null;
  metadata: Record<string, string[]>;
  request: { contentType: string | null; body?: string } | null;
}

const PREDICT = '/v1/models/simple-model:predict';

let dir: string;
let model: CliProcess;
let collector: CliProcess;
let agent: CliProcess;
let agentUrl: string;
let collectorUrl: string;
let adminUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'inferlog-hostile-'));
  const [modelPort, collectorPort, agentPort, adminPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  collectorUrl = `http://127.0.0.1:${collectorPort}`;
  agentUrl = `http://127.0.0.1:${agentPort}`;
  adminUrl = `http://127.0.0.1:${adminPort}`;
  [model, collector] = await Promise.all([
    startCli(['up', '-f', 'test/e2e/fixtures/no-logger.yaml', '--port', String(modelPort)]),
    startCli(['collect', '--port', String(collectorPort), '--store', `sqlite:${path.join(dir, 'c.db')}`]),
  ]);
  agent = await startCli([
    'agent',
    '--port',
    String(agentPort),
    '--component-port',
    String(modelPort),
    '--log-url',
    `${collectorUrl}/`,
    '--log-mode',
    'all',
    '--inference-service',
    'simple-model',
    '--namespace',
    'kserve-test',
    '--component',
    'predictor',
    '--metadata-headers',
    'X-Request-Id',
    '--admin-port',
    String(adminPort),
  ]);
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await Promise.all([collector?.stop(), model?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

/** The exchanges whose request body contains `token`, as the collector lists them. */
async function storedWith(token: string): Promise<Stored[]> {
  const res = await fetch(`${collectorUrl}/api/v1/exchanges?q=${encodeURIComponent(token)}&limit=100`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: Stored[] }).items;
}

async function waitStored(token: string, n = 1): Promise<Stored[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const items = await storedWith(token);
    if (items.length >= n && items.every((i) => i.complete)) return items;
    if (Date.now() > deadline) throw new Error(`exchange ${token} not stored: ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function full(id: string): Promise<Stored> {
  return (await (await fetch(`${collectorUrl}/api/v1/exchanges/${encodeURIComponent(id)}`)).json()) as Stored;
}

/** Sum of the agent's drop counters (every reason) and sampled-out exchanges. */
async function droppedTotal(): Promise<number> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(
    /^inferlog_exchanges_(?:dropped_total\{[^}]*\}|sampled_out_total) (\d+(?:\.\d+)?)$/gm,
  ))
    n += Number(m[1]);
  return n;
}

async function predict(headers: Record<string, string>, body: string): Promise<number> {
  const res = await fetch(`${agentUrl}${PREDICT}`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('hostile clients through a real agent and collector', () => {
  it('a forged CloudEvents batch body is stored as the client’s own exchange, nothing forged appears', async () => {
    const token = `forge-${randomUUID()}`;
    const forged = JSON.stringify([
      {
        specversion: '1.0',
        id: 'forged-A',
        type: 'org.kubeflow.serving.inference.request',
        source: 'x',
        namespace: 'prod',
        inferenceservicename: 'fraud-detector',
        data: { instances: [1], t: token },
      },
      {
        specversion: '1.0',
        id: 'forged-A',
        type: 'org.kubeflow.serving.inference.response',
        source: 'x',
        namespace: 'prod',
        inferenceservicename: 'fraud-detector',
        statuscode: 200,
        data: { predictions: ['not_fraud'] },
      },
    ]);
    await predict({ 'content-type': 'application/cloudevents-batch+json' }, forged);
    const [ex] = await waitStored(token);
    expect(ex).toMatchObject({ model: 'simple-model', namespace: 'kserve-test' });
    const got = await full(ex!.id);
    expect(got.request?.contentType).toBe('application/cloudevents-batch+json');
    expect(got.request?.body).toBe(forged);
    expect((await fetch(`${collectorUrl}/api/v1/exchanges/forged-A`)).status).toBe(404);
    const prod = await fetch(`${collectorUrl}/api/v1/exchanges?namespace=prod`);
    expect(((await prod.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('stores an exchange sent as application/cloudevents+xml (was a 415: both halves lost)', async () => {
    const token = `xml-${randomUUID()}`;
    await predict(
      { 'content-type': 'application/cloudevents+xml' },
      `{"instances":[1.0,2.0],"t":"${token}"}`,
    );
    const [ex] = await waitStored(token);
    expect((await full(ex!.id)).request?.contentType).toBe('application/cloudevents+xml');
  });

  it('stores an exchange whose 3 KB X-Request-Id of "<" escapes to 18 KB (was a 431), marked as cut', async () => {
    const token = `lt-${randomUUID()}`;
    await predict(
      { 'content-type': 'application/json', 'x-request-id': '<'.repeat(3000) },
      `{"instances":[1.0,2.0],"t":"${token}"}`,
    );
    const [ex] = await waitStored(token);
    expect(ex!.metadata['X-Request-Id']![0]).toMatch(/^<+\.\.\.\[truncated by inferlog\]$/);
  });

  it('the collector accepts the Ce-Metadata KServe’s agent sends for the same request (18 KB)', async () => {
    const id = randomUUID();
    const res = await fetch(`${collectorUrl}/`, {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': id,
        'ce-type': 'org.kubeflow.serving.inference.request',
        'ce-source': 'http://localhost:9081/',
        'ce-namespace': 'default',
        'ce-inferenceservicename': 'sklearn-iris',
        'ce-metadata': JSON.stringify({ 'X-Request-Id': ['\\u003c'.repeat(3000)] }).replace(/\\\\/g, '\\'),
        'content-type': 'application/json',
      },
      body: '{"instances":[[1]]}',
    });
    expect(res.status).toBe(200);
    expect((await full(id)).metadata['X-Request-Id']![0]).toBe('<'.repeat(3000));
  });

  it('three requests with Ce-Id: evil-fixed are three stored exchanges, each keeping the client value', async () => {
    const token = `evil-${randomUUID()}`;
    for (let i = 0; i < 3; i++)
      await predict(
        { 'content-type': 'application/json', 'ce-id': 'evil-fixed' },
        `{"instances":[1.0,2.0],"t":"${token}"}`,
      );
    const items = await waitStored(token, 3);
    expect(items).toHaveLength(3);
    for (const ex of items) {
      expect(ex.id).not.toBe('evil-fixed');
      expect(ex.metadata['Ce-Id']).toEqual(['evil-fixed']);
    }
  });

  it('fuzz: any content type, id and header size is answered promptly and stored or counted as dropped', async () => {
    const contentType = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom(
        'application/json',
        'application/cloudevents+json',
        'application/cloudevents-batch+json',
        'application/cloudevents+xml',
        'APPLICATION/CLOUDEVENTS+JSON; charset=utf-8',
        'application/cloudevents',
        'text/event-stream',
        'application/octet-stream',
        'multipart/form-data; boundary=x',
      ),
      fc.stringMatching(/^[a-z]{1,10}\/[a-z0-9.+-]{1,30}(; ?[a-z]+=[a-z0-9-]{1,10})?$/),
    );
    const headerChars = fc.constantFrom(...'<>&"\\ab1-é\u00ff ');
    const ceId = fc.oneof(
      fc.constant(undefined),
      fc.constant('evil-fixed'),
      fc.uuid(),
      fc.string({ unit: headerChars, minLength: 1, maxLength: 2000 }),
    );
    const requestId = fc.oneof(
      fc.constant(undefined),
      fc.string({ unit: headerChars, minLength: 1, maxLength: 6000 }),
    );
    await fc.assert(
      fc.asyncProperty(contentType, ceId, requestId, async (ct, id, rid) => {
        const token = `fuzz-${randomUUID()}`;
        const headers: Record<string, string> = {};
        if (ct !== undefined) headers['content-type'] = ct;
        // fetch trims values; a header that is blank after trimming is left out.
        if (id !== undefined && id.trim() !== '') headers['ce-id'] = id;
        if (rid !== undefined && rid.trim() !== '') headers['x-request-id'] = rid;
        const droppedBefore = await droppedTotal();
        const started = Date.now();
        // Answered at all, within 5 s (AbortSignal): logging never holds inference up.
        await predict(headers, `{"instances":[1.0,2.0],"t":"${token}"}`);
        expect(Date.now() - started).toBeLessThan(5000);
        const deadline = Date.now() + 15_000;
        for (;;) {
          const items = await storedWith(token);
          if (items.length === 1 && items[0]!.complete) {
            expect(items[0]).toMatchObject({ model: 'simple-model', namespace: 'kserve-test' });
            return;
          }
          if ((await droppedTotal()) > droppedBefore) return;
          if (Date.now() > deadline)
            throw new Error(`neither stored nor counted as dropped: ${JSON.stringify({ ct, id, rid })}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
