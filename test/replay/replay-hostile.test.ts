/**
 * `inferlog replay` against captured data it must not trust, and against answers it must not
 * swallow whole. All real processes:
 *
 *   test ──V2 binary-tensor request──▶ inferlog up (simple-model, logger → collector) ──▶ inferlog collect
 *   test ──injected CloudEvents (DELETE /v2/repository/…, GET /v1/models/…)──────────────▶ inferlog collect
 *   inferlog replay --from collector --to { the same `up` | a recording server | a gzip-bomb server }
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-replay-hostile-'));

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = runCli(['replay', ...args], env);
  const code = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** A target that records every request and answers `answer` (default: a small JSON 200). */
function target(
  answer: (req: IncomingMessage, res: http.ServerResponse) => void = (_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"predictions":[1]}');
  },
): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      answer(req, res);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${addr.port}`, received });
    }),
  );
}

/** Posts one half of an exchange to the collector as inferlog's agent would (binary mode). */
async function inject(
  from: string,
  half: 'request' | 'response',
  e: { id: string; method: string; url: string; model: string; body: string; status?: number },
): Promise<void> {
  const headers: Record<string, string> = {
    'ce-specversion': '1.0',
    'ce-id': e.id,
    'ce-type': `org.kubeflow.serving.inference.${half}`,
    'ce-source': 'http://localhost:9081/',
    'ce-time': new Date().toISOString(),
    'ce-inferenceservicename': e.model,
    'ce-namespace': 'prod',
    'ce-method': e.method,
    'ce-url': e.url,
    'content-type': 'application/json',
  };
  if (half === 'response' && e.status !== undefined) headers['ce-statuscode'] = String(e.status);
  const res = await fetch(from + '/', { method: 'POST', headers, body: e.body });
  expect(res.status).toBeLessThan(300);
}

const f32 = (...v: number[]): Buffer => Buffer.from(new Float32Array(v).buffer);

describe('inferlog replay: hostile captures and answers', () => {
  let collector: CliProcess;
  let model: CliProcess;
  let from: string;
  let modelUrl: string;
  let until: string;

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
        '  namespace: replay-hostile',
        'spec:',
        '  predictor:',
        '    logger:',
        '      mode: all',
        `      url: ${from}/`,
        '    model:',
        '      modelFormat:',
        '        name: onnx',
        `      storageUri: ${join(REPO_ROOT, 'examples/models/simple-model')}`,
        '',
      ].join('\n'),
    );
    model = await startCli(['up', '-f', yaml, '--port', String(mport)]);

    // A V2 binary-tensor request (KServe's binary_tensor_data extension) through the logging server.
    const json = Buffer.from(
      JSON.stringify({
        inputs: [{ name: 'x', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }],
      }),
    );
    const bin = await fetch(`${modelUrl}/v2/models/simple-model/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(json.length),
      },
      body: Buffer.concat([json, f32(1, 2)]),
    });
    expect(bin.status).toBe(200);
    await bin.text();

    // Exchanges injected into the collector by a client who can post CloudEvents to it.
    const injected = [
      { id: 'evil-unload', method: 'DELETE', url: '/v2/repository/models/prod-model/unload?force=1' },
      { id: 'evil-load', method: 'POST', url: '/v2/repository/models/prod-model/load' },
      { id: 'evil-get', method: 'GET', url: '/v1/models/prod-model' },
      { id: 'evil-traversal', method: 'POST', url: '/v1/models/x:predict/../../../admin' },
      { id: 'ok-openai', method: 'POST', url: '/openai/v1/chat/completions' },
      { id: 'ok-explain', method: 'POST', url: '/v1/models/prod-model:explain' },
    ];
    for (const e of injected) {
      await inject(from, 'request', { ...e, model: 'prod-model', body: '{"instances":[1]}' });
      await inject(from, 'response', { ...e, model: 'prod-model', body: '{"predictions":[1]}', status: 200 });
    }

    const deadline = Date.now() + 15_000;
    for (;;) {
      const page = (await (await fetch(`${from}/api/v1/exchanges?limit=50`)).json()) as {
        items: { complete: boolean }[];
      };
      if (page.items.filter((i) => i.complete).length === 7) break;
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

  it('replays only inference routes by default: others are skipped with a count and a reason; --any-route sends them', async () => {
    const t = await target();
    try {
      const auth = ['--header', 'Authorization: Bearer operator-secret'];
      const r = await run([
        '--from',
        from,
        '--to',
        t.url,
        '--until',
        until,
        '--model',
        'prod-model',
        '--format',
        'json',
        ...auth,
      ]);
      const s = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(s).toMatchObject({ replayed: 2, skipped: 4 });
      expect(s.skippedReasons).toEqual({ 'not an inference route (--any-route sends it)': 4 });
      expect(t.received.map((q) => `${q.method} ${q.url}`).sort()).toEqual([
        'POST /openai/v1/chat/completions',
        'POST /v1/models/prod-model:explain',
      ]);
      // The table says so too.
      const table = await run([
        '--from',
        from,
        '--to',
        t.url,
        '--until',
        until,
        '--model',
        'prod-model',
        '--dry-run',
      ]);
      expect(table.stdout).toContain(
        'SKIP evil-unload  not an inference route (--any-route sends it): DELETE /v2/repository/models/prod-model/unload?force=1',
      );

      t.received.length = 0;
      const any = await run([
        '--from',
        from,
        '--to',
        t.url,
        '--until',
        until,
        '--model',
        'prod-model',
        '--format',
        'json',
        '--any-route',
        ...auth,
      ]);
      expect(JSON.parse(any.stdout)).toMatchObject({ replayed: 6, skipped: 0 });
      const unload = t.received.find((q) => q.method === 'DELETE');
      expect(unload?.url).toBe('/v2/repository/models/prod-model/unload?force=1');
      expect(unload?.headers.authorization).toBe('Bearer operator-secret');
    } finally {
      t.server.close();
    }
  });

  it('re-sends Inference-Header-Content-Length: a V2 binary-tensor request against the same model comes back identical', async () => {
    const r = await run([
      '--from',
      from,
      '--to',
      modelUrl,
      '--until',
      until,
      '--model',
      'simple-model',
      '--ignore',
      'id',
      '--format',
      'json',
    ]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      replayed: 1,
      identical: 1,
      different: 0,
      failed: 0,
      statusChanges: {},
    });
    expect(r.code).toBe(0);
  });

  it('a gzip bomb answer is reported as over the limit, and memory stays bounded', async () => {
    // 16 gzip members of 64 MiB of zeros each: about 1 MiB on the wire, 1 GiB decoded.
    const member = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
    const t = await target((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    // The replay process reports its peak RSS on exit.
    const probe = join(dir, 'maxrss.mjs');
    writeFileSync(
      probe,
      "process.on('exit', () => process.stderr.write(`maxrss=${process.resourceUsage().maxRSS}\\n`));\n",
    );
    try {
      const r = await run(
        ['--from', from, '--to', t.url, '--until', until, '--model', 'simple-model', '--format', 'jsonl'],
        { NODE_OPTIONS: `--import=${probe}` },
      );
      expect(r.code).toBe(1);
      const line = JSON.parse(r.stdout.split('\n')[0] as string) as Record<string, unknown>;
      expect(line).toMatchObject({
        outcome: 'failed',
        error: { code: 'UPSTREAM_TOO_LARGE', message: 'the answer decodes to more than 64 MiB (gzip)' },
      });
      const maxRssKiB = Number(/maxrss=(\d+)/.exec(r.stderr)?.[1]);
      expect(maxRssKiB).toBeGreaterThan(0);
      expect(maxRssKiB * 1024).toBeLessThan(512 * 1024 * 1024);
    } finally {
      t.server.close();
    }
  });

  it('a filter that matches nothing says so and exits 66; --compare none exits 1 on a status change', async () => {
    const none = await run(['--from', from, '--to', modelUrl, '--until', until, '--model', 'nosuch']);
    expect(none.code).toBe(66);
    expect(none.stderr).toContain(
      'inferlog replay: no captured exchange matched the filters (--model nosuch',
    );
    expect(none.stdout).toBe('');

    const t = await target((_req, res) => {
      res.statusCode = 400;
      res.end('{"error":"bad input"}');
    });
    try {
      const r = await run([
        '--from',
        from,
        '--to',
        t.url,
        '--until',
        until,
        '--model',
        'prod-model',
        '--compare',
        'none',
        '--format',
        'json',
      ]);
      expect(JSON.parse(r.stdout)).toMatchObject({ statusChanges: { '200→400': 2 } });
      expect(r.code).toBe(1);
    } finally {
      t.server.close();
    }
  });
});
