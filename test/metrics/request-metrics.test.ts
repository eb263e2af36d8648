// Per-model request metrics from a real `inferlog up` and `inferlog agent`: the label values
// come only from configuration, so a client flooding distinct paths and model names adds no series.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';

const YAML = 'examples/inferenceservice-with-logging.yaml';
const PREDICT = JSON.stringify({ instances: [1.0, 2.0] });

async function metricsText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The series (name + labels) of one metric family in an exposition. */
function series(text: string, family: string): string[] {
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith(family + '{') ||
        l.startsWith(family + '_bucket{') ||
        l.startsWith(family + '_count{') ||
        l.startsWith(family + '_sum{'),
    )
    .map((l) => l.slice(0, l.lastIndexOf(' ')));
}

/** The value of the series `name{labels}` (labels in any order), NaN when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]),
    );
    const want = Object.entries(labels);
    if (want.length === Object.keys(have).length && want.every(([k, v]) => have[k] === v))
      return Number(m[3]);
  }
  return NaN;
}

/** Sends `count` requests, `concurrency` at a time; each gets path(i). Resolves with the statuses seen. */
async function flood(port: number, count: number, concurrency: number, path: (i: number) => string) {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const res = await fetch(`http://127.0.0.1:${port}${path(i)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: PREDICT,
      });
      await res.arrayBuffer();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

const distinctPath = (i: number): string =>
  [
    `/v1/models/m${i}:predict`,
    `/v2/models/n%20${i}/infer`,
    `/x/${i}/y`,
    `/v1/models/simple-model${i}:predict`,
  ][i % 4] as string;

const LABELS = { component: 'predictor', inference_service: 'simple-model', namespace: 'kserve-test' };
const of = (model: string, status_class: string): Record<string, string> => ({
  ...LABELS,
  model,
  status_class,
});

describe('inferlog up: per-model request metrics', () => {
  let up: CliProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    up = await startCli(['up', '-f', YAML, '--port', String(port)]);
  });
  afterAll(async () => {
    await up.stop();
  });

  it('counts a request under its configured model, status class and latency', async () => {
    const statuses = await flood(port, 3, 1, () => '/v1/models/simple-model:predict');
    expect(statuses.get(200)).toBe(3);
    const text = await metricsText(port);
    expect(value(text, 'inferlog_requests_total', of('simple-model', '2xx'))).toBe(3);
    expect(value(text, 'inferlog_requests_total', of('simple-model', '5xx'))).toBe(0);
    expect(value(text, 'inferlog_request_duration_seconds_count', of('simple-model', '2xx'))).toBe(3);
    // The new gauges behind the spool-fill and sink-failing alerts exist from the start.
    expect(value(text, 'inferlog_spool_capacity_bytes')).toBeGreaterThan(0);
    expect(value(text, 'inferlog_sinks_failing')).toBe(0);
  });

  it('keeps the series count fixed while a client sends 10,000 distinct paths and model names', async () => {
    const before = await metricsText(port);
    const requestSeries = (t: string): string[] => [
      ...series(t, 'inferlog_requests_total'),
      ...series(t, 'inferlog_request_duration_seconds'),
    ];
    const unmatched = (t: string): number =>
      value(t, 'inferlog_requests_total', of('(unmatched)', '4xx')) || 0;
    const seenBefore = unmatched(before);

    const statuses = await flood(port, 10_000, 16, distinctPath);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(10_000);

    const after = await metricsText(port);
    // Only the unknown-model status class (4xx) gained its children; nothing the client named did.
    const grown = requestSeries(after).filter((s) => !requestSeries(before).includes(s));
    expect(grown.every((s) => s.includes('model="(unmatched)"') && s.includes('status_class="4xx"'))).toBe(
      true,
    );
    expect(requestSeries(after).length).toBeLessThanOrEqual(2 * 6 * (1 + 1 + 15)); // 2 models × 6 classes × (counter + histogram lines)
    expect(after).not.toMatch(/model="(m\d|n |simple-model\d)/);
    expect(after).not.toContain('/x/');
    expect(unmatched(after) - seenBefore).toBe(10_000);
  }, 180_000);
});

describe('inferlog agent: per-model request metrics', () => {
  let upstream: CliProcess;
  let agent: CliProcess;
  let agentPort: number;
  let adminPort: number;
  beforeAll(async () => {
    const upPort = await freePort();
    upstream = await startCli(['up', '-f', 'test/e2e/fixtures/no-logger.yaml', '--port', String(upPort)]);
    agentPort = await freePort();
    adminPort = await freePort();
    agent = await startCli([
      'agent',
      '--host',
      '127.0.0.1',
      '--port',
      String(agentPort),
      '--component-port',
      String(upPort),
      '--admin-port',
      String(adminPort),
      '--inference-service',
      'simple-model',
      '--namespace',
      'kserve-test',
      '--component',
      'predictor',
    ]);
  });
  afterAll(async () => {
    await agent?.stop();
    await upstream?.stop();
  });

  it('labels the configured model and folds every other name into (unmatched), with logging off', async () => {
    await flood(agentPort, 2, 1, () => '/v1/models/simple-model:predict');
    await flood(agentPort, 200, 8, distinctPath);
    const text = await metricsText(adminPort);
    expect(value(text, 'inferlog_requests_total', of('simple-model', '2xx'))).toBe(2);
    expect(value(text, 'inferlog_requests_total', of('(unmatched)', '4xx'))).toBe(200);
    expect(
      series(text, 'inferlog_requests_total').every((s) => /model="(simple-model|\(unmatched\))"/.test(s)),
    ).toBe(true);
  });
});
