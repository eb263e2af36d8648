/**
 * `inferlog replay` end to end, all real processes:
 *
 *   test ──requests──▶ inferlog up (simple-model, logger.url = collector) ──CloudEvents──▶ inferlog collect
 *   inferlog replay --from collector --to { the same `up` | a candidate node:http server | nothing }
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-replay-'));

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = runCli(['replay', ...args]);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** A candidate model: V1 answers 2x+1 plus `offset(x)`; V2 answers 500. Records what it got. */
function candidate(
  offset: (x: number) => number,
): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (req.url?.startsWith('/v1/')) {
        const { instances } = JSON.parse(body) as { instances: number[] };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ predictions: instances.map((x) => 2 * x + 1 + offset(x)) }));
      } else {
        res.statusCode = 500;
        res.end('{"error":"not implemented"}');
      }
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${addr.port}`, received });
    }),
  );
}

describe('inferlog replay', () => {
  let collector: CliProcess;
  let model: CliProcess;
  let from: string;
  let modelUrl: string;
  /** Exchanges stored before this instant are the captured traffic; later ones are replays. */
  let until: string;
  const ids = new Map<string, string>(); // request body → captured exchange id

  beforeAll(async () => {
    const cport = await freePort();
    const mport = await freePort();
    from = `http://127.0.0.1:${cport}`;
    modelUrl = `http://127.0.0.1:${mport}`;
    collector = await startCli([
      'collect',
      '--port',
      String(cport),
      '--store',
      `sqlite:${join(dir, 'c.db')}`,
    ]);
    const yaml = join(dir, 'isvc.yaml');
    writeFileSync(
      yaml,
      [
        'apiVersion: serving.kserve.io/v1beta1',
        'kind: InferenceService',
        'metadata:',
        '  name: simple-model',
        '  namespace: replay-test',
        'spec:',
        '  predictor:',
        '    logger:',
        '      mode: all',
        `      url: ${from}/`,
        '      metadataHeaders:',
        '        - X-Request-Id',
        '    model:',
        '      modelFormat:',
        '        name: onnx',
        `      storageUri: ${join(REPO_ROOT, 'examples/models/simple-model')}`,
        '',
      ].join('\n'),
    );
    model = await startCli(['up', '-f', yaml, '--port', String(mport)]);

    // Real traffic through the logging model server: four V1 calls and one V2 call.
    const bodies = [
      '{"instances": [1.0, 2.0]}',
      '{"instances": [3.0]}',
      '{"instances":[0.5,4]}',
      '{"instances": [10]}',
    ];
    for (const b of bodies) {
      const res = await fetch(`${modelUrl}/v1/models/simple-model:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-' + b.length },
        body: b,
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    const v2 = await fetch(`${modelUrl}/v2/models/simple-model/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}',
    });
    expect(v2.status).toBe(200);
    await v2.text();
    // A request half as KServe's agent sends it (no method/url extension, no response: mode request).
    const ce = await fetch(from + '/', {
      method: 'POST',
      headers: {
        'ce-specversion': '1.0',
        'ce-id': 'kserve-only-request',
        'ce-type': 'org.kubeflow.serving.inference.request',
        'ce-source': 'http://localhost:9081/',
        'ce-time': new Date().toISOString(),
        'ce-inferenceservicename': 'simple-model',
        'ce-namespace': 'replay-test',
        'content-type': 'application/json',
      },
      body: '{"instances": [7]}',
    });
    expect(ce.status).toBeLessThan(300);

    // Wait until the collector holds all six (the model server's logger delivers asynchronously).
    const deadline = Date.now() + 15_000;
    for (;;) {
      const page = (await (await fetch(`${from}/api/v1/exchanges?limit=50`)).json()) as {
        items: { id: string; complete: boolean; requestPreview: string }[];
      };
      if (page.items.filter((i) => i.complete).length === 5 && page.items.length === 6) {
        for (const i of page.items) ids.set(i.requestPreview, i.id);
        break;
      }
      if (Date.now() > deadline) throw new Error(`collector has ${JSON.stringify(page.items)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 5));
    until = new Date().toISOString();
  }, 60_000);

  afterAll(async () => {
    await model?.stop();
    await collector?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('against the same model: every captured answer comes back identical, exit 0', async () => {
    const report = join(dir, 'same.jsonl');
    const r = await run([
      '--from',
      from,
      '--to',
      modelUrl,
      '--until',
      until,
      '--ignore',
      'id',
      '--format',
      'json',
      '--report',
      report,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      replayed: 6,
      identical: 5,
      different: 0,
      failed: 0,
      noBaseline: 1,
      skipped: 0,
      statusChanges: {},
    });
    expect((s.latencyMs as { replayed: { p50: number } }).replayed.p50).toBeGreaterThan(0);

    const lines = readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(6);
    const noBaseline = lines.find((l) => l.id === 'kserve-only-request');
    // KServe capture without a URL: sent to the inferred V1 path, answered by the real model.
    expect(noBaseline).toMatchObject({
      outcome: 'no-baseline',
      method: 'POST',
      path: '/v1/models/simple-model:predict',
      status: { old: null, new: 200 },
    });
    const one = lines.find((l) => l.id === ids.get('{"instances": [3.0]}'));
    expect(one).toMatchObject({
      outcome: 'identical',
      status: { old: 200, new: 200 },
      diff: [],
      diffCount: 0,
    });
    expect((one?.latencyMs as { old: number; new: number }).new).toBeGreaterThan(0);
  });

  it('the V2 answer differs in its generated id unless --ignore id; table output names the path', async () => {
    const r = await run(['--from', from, '--to', modelUrl, '--until', until, '--model', 'simple-model']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /replayed 6 exchanges from http:\/\/127\.0\.0\.1:\d+ to http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(r.stdout).toMatch(/identical\s+4\n\s+different\s+1\n/);
    expect(r.stdout).toMatch(/top differing paths \(exchanges\):\n\s+id\s+1/);
    expect(r.stdout).toMatch(/ id: "[0-9a-f-]+" → "[0-9a-f-]+"/);
  });

  it('against a different model: reports the differing paths and status changes, exit 1; sends the captured bytes', async () => {
    const c = await candidate((x) => (x >= 3 ? 0.5 : 0));
    try {
      const report = join(dir, 'diff.jsonl');
      const r = await run([
        '--from',
        from,
        '--to',
        c.url,
        '--until',
        until,
        '--format',
        'jsonl',
        '--report',
        report,
        '--concurrency',
        '2',
      ]);
      expect(r.code).toBe(1);
      const out = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const summary = out.at(-1)?.summary as Record<string, unknown>;
      expect(summary).toMatchObject({
        replayed: 6,
        identical: 1,
        different: 3,
        failed: 1,
        noBaseline: 1,
        statusChanges: { '200→500': 1 },
      });
      expect((summary.topDifferingPaths as unknown[]).slice(0, 2)).toEqual([
        { path: 'predictions[*]', count: 3 },
        { path: '(status)', count: 1 },
      ]);
      const byBody = (b: string): Record<string, unknown> | undefined => out.find((l) => l.id === ids.get(b));
      expect(byBody('{"instances": [3.0]}')).toMatchObject({
        outcome: 'different',
        diff: [{ path: 'predictions[0]', old: 7, new: 7.5 }],
      });
      expect(byBody('{"instances":[0.5,4]}')).toMatchObject({
        outcome: 'different',
        diff: [{ path: 'predictions[1]', old: 9, new: 9.5 }],
      });
      expect(byBody('{"instances": [1.0, 2.0]}')).toMatchObject({ outcome: 'identical' });
      // The report holds the same per-exchange lines as stdout.
      expect(readFileSync(report, 'utf8').trim().split('\n')).toHaveLength(6);

      // What the candidate received: the captured method, path, bytes and content type; no metadata headers.
      expect(c.received).toHaveLength(6);
      const got = c.received.find((q) => q.body === '{"instances":[0.5,4]}');
      expect(got).toMatchObject({ method: 'POST', url: '/v1/models/simple-model:predict' });
      expect(got?.headers['content-type']).toBe('application/json');
      expect(got?.headers['ce-id']).toBe(`replay-${ids.get('{"instances":[0.5,4]}')}`);
      expect(got?.headers['x-request-id']).toBeUndefined();
      expect(c.received.find((q) => q.url === '/v2/models/simple-model/infer')?.body).toBe(
        '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}',
      );
    } finally {
      c.server.close();
    }
  });

  it('numbers within --tolerance count as identical; --header re-sends a captured metadata header', async () => {
    const c = await candidate(() => 1e-7);
    try {
      const loose = await run([
        '--from',
        from,
        '--to',
        c.url,
        '--until',
        until,
        '--status',
        '2xx',
        '--path',
        '/v1/models/{model}:predict',
        '--tolerance',
        '1e-6',
        '--format',
        'json',
        '--header',
        'X-Request-Id',
        '--header',
        'X-Replay: yes',
      ]);
      expect(JSON.parse(loose.stdout)).toMatchObject({ identical: 4, different: 0, failed: 1 });
      const v1 = c.received.filter((q) => q.url.startsWith('/v1/'));
      expect(v1.map((q) => q.headers['x-request-id']).sort()).toEqual([
        'req-19',
        'req-20',
        'req-21',
        'req-25',
      ]);
      expect(v1.every((q) => q.headers['x-replay'] === 'yes')).toBe(true);
      const strict = await run([
        '--from',
        from,
        '--to',
        c.url,
        '--until',
        until,
        '--status',
        '2xx',
        '--format',
        'json',
      ]);
      expect(strict.code).toBe(1);
      expect(JSON.parse(strict.stdout)).toMatchObject({ identical: 0, different: 4, failed: 1 });
    } finally {
      c.server.close();
    }
  });

  it('a dead target stops the run with exit 69 and says which target', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const r = await run(['--from', from, '--to', dead, '--until', until]);
    expect(r.code).toBe(69);
    expect(r.stderr).toContain(`inferlog replay: target at ${dead} is unreachable: connect ECONNREFUSED`);
  });

  it('a dead collector is 69, a filter the collector rejects is a usage error (2) with its reason', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const [a, b, c] = await Promise.all([
      run(['--from', dead, '--to', modelUrl]),
      run(['--from', from, '--to', modelUrl, '--since', 'yesterday']),
      run(['--from', from, '--to', modelUrl, '--compare', 'fuzzy']),
    ]);
    expect(a.code).toBe(69);
    expect(a.stderr).toMatch(/collector at .* is unreachable/);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(
      /collector at http:\/\/127\.0\.0\.1:\d+\/ answered 400: since: invalid time "yesterday"/,
    );
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('--compare "fuzzy": use exact, json or none');
  });

  it('--dry-run lists what would be sent and sends nothing', async () => {
    const c = await candidate(() => 0);
    try {
      const r = await run([
        '--from',
        from,
        '--to',
        c.url + '/prefix',
        '--until',
        until,
        '--dry-run',
        '--format',
        'jsonl',
        '--rename-model',
        'candidate',
      ]);
      expect(r.code).toBe(0);
      const rows = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { url: string });
      expect(rows).toHaveLength(6);
      expect(rows.map((x) => x.url)).toContain(`${c.url}/prefix/v1/models/candidate:predict`);
      expect(c.received).toHaveLength(0);

      // Without --until the replays the earlier tests sent through the logging model server are
      // listed too (their Ce-Id replay-<id> kept as metadata, as the server does not trust inbound
      // ids); they are skipped, not replayed again.
      const all = await run(['--from', from, '--to', c.url, '--dry-run', '--format', 'jsonl']);
      const listed = all.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string; skipped?: string });
      const replays = listed.filter((x) => /earlier replay/.test(x.skipped ?? ''));
      expect(replays.length).toBeGreaterThan(0);
      expect(c.received).toHaveLength(0);
    } finally {
      c.server.close();
    }
  });
});
