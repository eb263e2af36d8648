// A multi-model `inferlog up` → collector: each exchange is stored under the model it targeted
// (the path's model for V1/V2, the body's `model` for OpenAI routes), and exchanges that match
// no served model under `(unmatched)`, never under the first model of the file (issue 14, item 1).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const UNMATCHED = '(unmatched)';

const isvc = (
  name: string,
  collector: number,
  model: string,
): string => `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: ${name}
spec:
  predictor:
    logger:
      mode: all
      url: http://127.0.0.1:${collector}/
    model:
${model}
`;

interface Item {
  id: string;
  model: string;
  status: number;
  complete: boolean;
}

describe('multi-model inferlog up → collector: attribution', () => {
  let dir: string;
  let collector: CliProcess;
  let up: CliProcess;
  let api: string;
  let base: string;
  const sent: Array<{ expect: string; status: number }> = [];

  async function send(method: string, urlPath: string, body: unknown, expectModel: string): Promise<void> {
    const res = await fetch(`${base}${urlPath}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.text();
    sent.push({ expect: expectModel, status: res.status });
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-multi-'));
    const collectorPort = await freePort();
    collector = await startCli([
      'collect',
      '--port',
      String(collectorPort),
      '--store',
      `sqlite:${path.join(dir, 'db.sqlite')}`,
    ]);
    api = `http://127.0.0.1:${collectorPort}/api/v1`;
    const models = path.join(REPO_ROOT, 'examples/models');
    const yaml = path.join(dir, 'isvc.yaml');
    writeFileSync(
      yaml,
      [
        isvc(
          'simple-model',
          collectorPort,
          `      modelFormat:\n        name: onnx\n      storageUri: ${models}/simple-model`,
        ),
        isvc(
          'iris',
          collectorPort,
          `      modelFormat:\n        name: onnx\n      storageUri: ${models}/iris`,
        ),
        isvc('echo-llm', collectorPort, `      modelFormat:\n        name: inferlog-echo`),
      ].join('---\n'),
    );
    const port = await freePort();
    up = await startCli(['up', '-f', yaml, '--port', String(port)]);
    base = `http://127.0.0.1:${port}`;

    await send('POST', '/v1/models/simple-model:predict', { instances: [1.0, 2.0] }, 'simple-model');
    await send('POST', '/v2/models/iris/infer', { inputs: [] }, 'iris'); // 400, still iris's
    const chat = { model: 'echo-llm', messages: [{ role: 'user', content: 'hi there' }] };
    await send('POST', '/openai/v1/chat/completions', chat, 'echo-llm');
    await send('POST', '/openai/v1/chat/completions', { ...chat, stream: true }, 'echo-llm');
    await send('POST', '/openai/v1/completions', { model: 'echo-llm', prompt: 'a b' }, 'echo-llm');
    // An OpenAI route sent to a model that is served but not a text model: its 400 is iris's.
    await send('POST', '/openai/v1/chat/completions', { ...chat, model: 'iris' }, 'iris');
    // Targets that no served model matches.
    await send('POST', '/v1/models/simple-modle:predict', { instances: [1.0] }, UNMATCHED); // 404
    await send('POST', '/openai/v1/chat/completions', { ...chat, model: 'gpt-4o' }, UNMATCHED);
    await send('POST', '/openai/v1/chat/completions', 'not an object', UNMATCHED); // 400, names no model
    await send('GET', '/v2/health/ready', undefined, UNMATCHED); // server-level: no model named
    // A wrong method on a model's route is still that model's (405).
    await send('GET', '/v1/models/iris:predict', undefined, 'iris');
  });

  afterAll(async () => {
    await up?.stop();
    await collector?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function items(): Promise<Item[]> {
    let list: Item[] = [];
    for (let i = 0; i < 150; i++) {
      list = ((await (await fetch(`${api}/exchanges?limit=100`)).json()) as { items: Item[] }).items;
      if (list.length >= sent.length && list.every((x) => x.complete)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return list;
  }

  it('stores each exchange under the model it targeted, and the rest as (unmatched)', async () => {
    expect(sent.map((s) => s.status)).toEqual([200, 400, 200, 200, 200, 400, 404, 404, 400, 200, 405]);
    const list = await items();
    expect(list).toHaveLength(sent.length);
    const count = (xs: string[]): Record<string, number> =>
      xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});
    expect(count(list.map((x) => x.model))).toEqual(count(sent.map((s) => s.expect)));
    // The statuses line up per model too: simple-model has only its one 200.
    expect(list.filter((x) => x.model === 'simple-model').map((x) => x.status)).toEqual([200]);
    expect(
      list
        .filter((x) => x.model === UNMATCHED)
        .map((x) => x.status)
        .sort(),
    ).toEqual([200, 400, 404, 404]);
  });

  it('the stats by-model table and the model filter agree', async () => {
    await items();
    const stats = (await (await fetch(`${api}/stats`)).json()) as {
      byModel: Array<{ model: string; count: number }>;
    };
    const byModel = Object.fromEntries(stats.byModel.map((m) => [m.model, m.count]));
    expect(byModel).toEqual({ 'simple-model': 1, iris: 3, 'echo-llm': 3, [UNMATCHED]: 4 });
    const echo = (await (await fetch(`${api}/exchanges?model=echo-llm`)).json()) as { items: Item[] };
    expect(echo.items).toHaveLength(3);
  });

  it('the per-model request metrics count each request under the model its log is filed under', async () => {
    await items();
    const text = await (await fetch(`${base}/metrics`)).text();
    const count = (model: string): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith('inferlog_requests_total{') && l.includes(`model="${model}"`))
        .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    // The three OpenAI calls name echo-llm in their bodies (before: counted under simple-model).
    expect(count('echo-llm')).toBe(3);
    expect(count('iris')).toBe(3);
  });

  it('replay --model replays only that model', async () => {
    await items();
    const replay = runCli([
      'replay',
      '--from',
      api.replace('/api/v1', ''),
      '--to',
      base,
      '--model',
      'echo-llm',
    ]);
    await replay.exited;
    expect(replay.stdout() + replay.stderr()).toMatch(/replayed 3 exchanges/);
  });
});
