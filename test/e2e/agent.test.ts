// `inferlog agent` in front of a model server, with KServe's agent flags.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';

async function call(port: number, path: string, init: RequestInit = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'date' && k !== 'keep-alive' && k !== 'connection') headers[k] = v;
  });
  return { status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) };
}

describe('inferlog agent', () => {
  let model: CliProcess;
  let agent: CliProcess;
  let modelPort: number;
  let agentPort: number;
  let adminPort: number;

  beforeAll(async () => {
    modelPort = await freePort();
    agentPort = await freePort();
    adminPort = await freePort();
    model = await startCli(['up', '-f', 'test/e2e/fixtures/no-logger.yaml', '--port', String(modelPort)]);
    // The argument list KServe's webhook gives its agent container, plus our admin port.
    agent = await startCli([
      'agent',
      '--port',
      String(agentPort),
      '--component-port',
      String(modelPort),
      '--log-url',
      'stdout',
      '--log-mode',
      'all',
      '--source-uri',
      'simple-model-predictor-00001-deployment-abc',
      '--inference-service',
      'simple-model',
      '--namespace',
      'kserve-test',
      '--endpoint',
      '',
      '--component',
      'predictor',
      '--metadata-headers',
      'X-Request-Id,X-B3-Traceid',
      '--metadata-annotations',
      'team.example.com/owner=ml-platform',
      '--workers',
      '5',
      '--enable-puller=false',
      '--admin-port',
      String(adminPort),
    ]);
  });
  afterAll(async () => {
    await agent?.stop();
    await model?.stop();
  });

  it('returns exactly what the model returns, for V1, V2 and errors', async () => {
    const cases: Array<[string, RequestInit]> = [
      [
        '/v1/models/simple-model:predict',
        {
          method: 'POST',
          body: '{"instances": [1.0, 2.0]}',
          headers: { 'content-type': 'application/json' },
        },
      ],
      [
        '/v2/models/simple-model/infer',
        { method: 'POST', body: '{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[0,1,2]}]}' },
      ],
      ['/v2/models/simple-model', { method: 'GET' }],
      ['/v1/models/missing:predict', { method: 'POST', body: '{}' }],
      ['/v1/models/simple-model:predict', { method: 'POST', body: 'not json' }],
    ];
    for (const [path, init] of cases) {
      const direct = await call(modelPort, path, init);
      const proxied = await call(agentPort, path, init);
      expect(proxied.status, path).toBe(direct.status);
      expect(proxied.headers, path).toEqual(direct.headers);
      // V2 answers carry a fresh response id per request; compare the rest.
      const norm = (b: Buffer) => b.toString().replace(/"id":"[^"]*"/, '"id":"…"');
      expect(norm(proxied.body), path).toBe(norm(direct.body));
    }
  });

  it('logs each exchange with the flags’ names, headers and annotations', async () => {
    await call(agentPort, '/v1/models/simple-model:predict', {
      method: 'POST',
      body: '{"instances": [1.0, 2.0]}',
      headers: { 'content-type': 'application/json', 'x-request-id': 'abc-1', cookie: 'session=secret' },
    });
    const mine = (c: CliProcess) => c.jsonLines().find((l) => JSON.stringify(l.metadata).includes('abc-1'));
    await agent.waitFor((c) => mine(c) !== undefined, 'the log line');
    const line = mine(agent);
    expect(line).toMatchObject({
      inferenceService: 'simple-model',
      namespace: 'kserve-test',
      component: 'predictor',
      requestBody: '{"instances": [1.0, 2.0]}',
      responseBody: '{"predictions":[3,5]}',
      responseStatus: 200,
      metadata: { 'X-Request-Id': ['abc-1'] },
    });
    expect(JSON.stringify(line)).not.toContain('secret');
  });

  it('serves Prometheus metrics and health on the admin port', async () => {
    const metrics = await call(adminPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body.toString()).toMatch(/inferlog_exchanges_captured_total \d+/);
    const health = await call(adminPort, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body.toString())).toMatchObject({ ok: true });
  });

  it('answers 502 with a reason, and logs it, when the model is down', async () => {
    const port = await freePort();
    const lonely = await startCli([
      'agent',
      '--port',
      String(port),
      '--component-port',
      String(await freePort()),
      '--log-url',
      'stdout',
    ]);
    try {
      const res = await call(port, '/v1/models/simple-model:predict', {
        method: 'POST',
        body: '{"instances":[1]}',
      });
      expect(res.status).toBe(502);
      await lonely.waitFor((c) => c.jsonLines().length === 1, 'the log line');
      expect(lonely.jsonLines()[0]).toMatchObject({
        level: 'error',
        responseStatus: 502,
        error: { code: 'UPSTREAM_UNREACHABLE' },
      });
    } finally {
      await lonely.stop();
    }
  });

  it('rejects bad flags with the flag name and exit code 1', { timeout: 90_000 }, async () => {
    const cli = runCli([
      'agent',
      '--port',
      String(await freePort()),
      '--log-url',
      'stdout',
      '--log-mode',
      'RequestResponse',
    ]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(
      '--log-mode: invalid mode "RequestResponse": use `all` to log requests and responses',
    );
    const scheme = runCli(['agent', '--log-url', 'gopher://x']);
    expect(await scheme.exited).toBe(1);
    expect(scheme.stderr()).toMatch(/--log-url: unsupported URL scheme "gopher:"; supported schemes: /);
    const spool = runCli([
      'agent',
      '--port',
      String(await freePort()),
      '--log-url',
      'stdout',
      '--spool-dir',
      '/etc/hostname/spool',
    ]);
    expect(await spool.exited).toBe(1);
    expect(spool.stderr()).toMatch(
      /^inferlog: --spool-dir \/etc\/hostname\/spool: cannot use it as the spool/m,
    );
  });
});
