// Issue: KServe compatibility, proven against KServe's own Python model server.
//
//   client ──▶ inferlog agent ──▶ kserve.ModelServer (sklearn iris, trained in the test)
//                   └──CloudEvents──▶ inferlog collect (SQLite) ──▶ /api/v1/exchanges
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, portAnswers, pythonBin, REPO_ROOT } from '../helpers/peers.js';

const V1_BODY = '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}';
const V2_BODY = JSON.stringify({
  id: 'v2-req-1',
  inputs: [
    { name: 'input-0', shape: [2, 4], datatype: 'FP32', data: [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6] },
  ],
});

async function call(port: number, urlPath: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'date' && k !== 'connection' && k !== 'keep-alive') out[k] = v;
  });
  return { status: res.status, headers: out, body: await res.text() };
}

interface ExchangeView {
  id: string;
  complete: boolean;
  model: string;
  namespace: string;
  status: number | null;
  metadata: Record<string, string[]>;
  request: { body?: string } | null;
  response: { body?: string; contentType?: string } | null;
}

describe('inferlog agent in front of KServe’s Python model server', () => {
  let dir: string;
  let kserve: ChildProcess;
  let collector: CliProcess;
  let agent: CliProcess;
  let modelPort: number;
  let agentPort: number;
  let collectorPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-kserve-'));
    modelPort = await freePort();
    kserve = spawn(
      pythonBin(),
      [
        path.join(REPO_ROOT, 'test/e2e/kserve/iris_server.py'),
        '--http_port',
        String(modelPort),
        '--model_dir',
        dir,
        '--model_name',
        'sklearn-iris',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let kserveLog = '';
    kserve.stderr?.on('data', (c: Buffer) => (kserveLog += c.toString()));
    collectorPort = await freePort();
    collector = await startCli([
      'collect',
      '--port',
      String(collectorPort),
      '--store',
      `sqlite:${path.join(dir, 'inferlog.db')}`,
      '--log-instances',
    ]);
    agentPort = await freePort();
    agent = await startCli([
      'agent',
      '--port',
      String(agentPort),
      '--component-port',
      String(modelPort),
      '--log-url',
      `http://127.0.0.1:${collectorPort}/`,
      '--log-mode',
      'all',
      '--inference-service',
      'sklearn-iris',
      '--namespace',
      'default',
      '--component',
      'predictor',
      '--metadata-headers',
      'X-Request-Id',
    ]);
    const deadline = Date.now() + 60_000;
    while (!(await portAnswers(modelPort))) {
      if (kserve.exitCode !== null || Date.now() > deadline)
        throw new Error(`KServe model server did not start:\n${kserveLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await collector?.stop();
    kserve?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes V1 and V2 answers through unchanged', async () => {
    const directV1 = await call(modelPort, '/v1/models/sklearn-iris:predict', V1_BODY);
    const agentV1 = await call(agentPort, '/v1/models/sklearn-iris:predict', V1_BODY);
    expect(directV1.body).toBe('{"predictions":[1,1]}');
    expect(agentV1).toEqual(directV1);
    const directV2 = await call(modelPort, '/v2/models/sklearn-iris/infer', V2_BODY);
    const agentV2 = await call(agentPort, '/v2/models/sklearn-iris/infer', V2_BODY);
    expect(JSON.parse(directV2.body).outputs[0].data).toEqual([1, 1]);
    expect(agentV2).toEqual(directV2);
    const directMissing = await call(modelPort, '/v1/models/nope:predict', V1_BODY);
    expect(directMissing.status).toBe(404);
    expect(await call(agentPort, '/v1/models/nope:predict', V1_BODY)).toEqual(directMissing);
  });

  it('delivers events that pair up into exchanges in the collector', async () => {
    await call(agentPort, '/v1/models/sklearn-iris:predict', V1_BODY, { 'X-Request-Id': 'kserve-e2e-1' });
    const api = `http://127.0.0.1:${collectorPort}/api/v1/exchanges?model=sklearn-iris&limit=100`;
    let mine: ExchangeView | undefined;
    for (let i = 0; i < 100 && !mine?.complete; i++) {
      const list = (await (await fetch(api)).json()) as { items: ExchangeView[] };
      mine = list.items.find((x) => x.metadata['X-Request-Id']?.[0] === 'kserve-e2e-1');
      if (!mine?.complete) await new Promise((r) => setTimeout(r, 100));
    }
    expect(mine).toMatchObject({ complete: true, model: 'sklearn-iris', namespace: 'default', status: 200 });
    const full = (await (
      await fetch(`http://127.0.0.1:${collectorPort}/api/v1/exchanges/${mine?.id}`)
    ).json()) as ExchangeView;
    expect(full.request?.body).toBe(V1_BODY);
    expect(full.response?.body).toBe('{"predictions":[1,1]}');
    // KServe logs only 200s; inferlog logs the 404 too, with its status.
    const all = (await (await fetch(`${api}&status=4xx`)).json()) as { items: ExchangeView[] };
    expect(all.items.some((x) => x.status === 404 && x.complete)).toBe(true);
  });

  it('stores one row per prediction of its V1 and V2 answers (collect --log-instances)', async () => {
    await call(agentPort, '/v1/models/sklearn-iris:predict', V1_BODY, { 'X-Request-Id': 'kserve-inst-v1' });
    const v2 = await call(agentPort, '/v2/models/sklearn-iris/infer', V2_BODY, {
      'X-Request-Id': 'kserve-inst-v2',
    });
    const v2Outputs = (JSON.parse(v2.body) as { outputs: Array<{ name: string; datatype: string }> }).outputs;
    const base = `http://127.0.0.1:${collectorPort}/api/v1`;
    const idOf = async (requestId: string): Promise<string | undefined> => {
      const list = (await (await fetch(`${base}/exchanges?model=sklearn-iris&limit=100`)).json()) as {
        items: ExchangeView[];
      };
      return list.items.find((x) => x.metadata['X-Request-Id']?.[0] === requestId && x.complete)?.id;
    };
    type Row = { index: number; input: unknown; prediction: unknown };
    const rowsOf = async (requestId: string): Promise<Row[]> => {
      for (let i = 0; i < 100; i++) {
        const id = await idOf(requestId);
        if (id !== undefined)
          return ((await (await fetch(`${base}/exchanges/${id}/instances`)).json()) as { items: Row[] })
            .items;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no complete exchange for ${requestId}`);
    };
    expect((await rowsOf('kserve-inst-v1')).map((r) => [r.index, r.input, r.prediction])).toEqual([
      [0, [6.8, 2.8, 4.8, 1.4], 1],
      [1, [6.0, 3.4, 4.5, 1.6], 1],
    ]);
    const v2rows = await rowsOf('kserve-inst-v2');
    expect(v2rows.map((r) => r.input)).toEqual([
      { 'input-0': { datatype: 'FP32', shape: [4], data: [6.8, 2.8, 4.8, 1.4] } },
      { 'input-0': { datatype: 'FP32', shape: [4], data: [6.0, 3.4, 4.5, 1.6] } },
    ]);
    expect(v2rows.map((r) => r.prediction)).toEqual([
      { [v2Outputs[0]!.name]: { datatype: v2Outputs[0]!.datatype, shape: [], data: [1] } },
      { [v2Outputs[0]!.name]: { datatype: v2Outputs[0]!.datatype, shape: [], data: [1] } },
    ]);
  });
});
