// The seed tutorial end to end: `inferlog up` + examples/test-request.sh → JSON lines on stdout.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const exec = promisify(execFile);
const testRequest = path.join(REPO_ROOT, 'examples/test-request.sh');

async function post(port: number, urlPath: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: await res.text() };
}

describe('inferlog up with examples/inferenceservice-with-logging.yaml (mode: request)', () => {
  let up: CliProcess;
  let port: number;
  const stateHome = mkdtempSync(path.join(tmpdir(), 'inferlog-up-state-'));
  beforeAll(async () => {
    port = await freePort();
    up = await startCli(['up', '-f', 'examples/inferenceservice-with-logging.yaml', '--port', String(port)], {
      XDG_STATE_HOME: stateHome,
    });
  });
  afterAll(async () => {
    await up.stop();
    rmSync(stateHome, { recursive: true, force: true });
  });

  it('prints one ready line on stderr and nothing on stdout', () => {
    expect(up.stderr()).toMatch(new RegExp(`ready — serving simple-model on http://127\\.0\\.0\\.1:${port}`));
    expect(up.stdout()).toBe('');
  });

  it('spools to disk by default, one directory per service under XDG_STATE_HOME, named in the ready line', () => {
    const spool = path.join(stateHome, 'inferlog', `up-${port}`, 'kserve-test.simple-model');
    expect(up.stderr()).toContain(`spool ${spool}`);
    expect(up.stderr()).not.toMatch(/memory only/);
    expect(statSync(spool).mode & 0o777).toBe(0o700);
  });

  it('answers the seed request from test-request.sh and logs it as the seed tutorial shows', async () => {
    const { stdout } = await exec(testRequest, { env: { ...process.env, INGRESS_PORT: String(port) } });
    expect(JSON.parse(stdout)).toEqual({ predictions: [3, 5] });
    await up.waitFor((c) => c.jsonLines().length >= 1, 'the log line');
    const line = up.jsonLines()[0] as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'info',
      logger: 'request-logger',
      msg: 'Incoming request',
      method: 'POST',
      url: '/v1/models/simple-model:predict',
      requestBody: '{"instances": [1.0, 2.0]}',
      responseStatus: 200,
      inferenceService: 'simple-model',
      namespace: 'kserve-test',
      component: 'predictor',
      metadata: {},
    });
    expect(line.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(line.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof line.latencyMs).toBe('number');
    // mode: request logs the request part and the status, not the response body.
    expect(line).not.toHaveProperty('responseBody');
  });

  it('logs V2 requests, allow-listed headers, and errors with warn level', async () => {
    const before = up.jsonLines().length;
    const v2 = await post(
      port,
      '/v2/models/simple-model/infer',
      '{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}',
      {
        'X-Request-Id': 'req-7',
      },
    );
    expect(v2.status).toBe(200);
    expect(JSON.parse(v2.body).outputs[0].data).toEqual([3, 5]);
    const missing = await post(port, '/v1/models/no-such-model:predict', '{"instances":[1]}');
    expect(missing.status).toBe(404);
    const bad = await post(port, '/v1/models/simple-model:predict', '{"instances": [1.0,');
    expect(bad.status).toBe(400);
    await up.waitFor((c) => c.jsonLines().length >= before + 3, 'three more lines');
    const [v2Line, missingLine, badLine] = up.jsonLines().slice(before);
    expect(v2Line).toMatchObject({
      level: 'info',
      url: '/v2/models/simple-model/infer',
      responseStatus: 200,
      metadata: { 'X-Request-Id': ['req-7'] },
    });
    expect(missingLine).toMatchObject({
      level: 'warn',
      url: '/v1/models/no-such-model:predict',
      responseStatus: 404,
    });
    expect(badLine).toMatchObject({ level: 'warn', responseStatus: 400, requestBody: '{"instances": [1.0,' });
  });

  it('refuses a body over the limit with 413 and logs it with size and digest', async () => {
    const huge = `{"instances":[${'1.5,'.repeat(4_500_000)}1]}`; // ~18 MB > 16 MiB
    const res = await post(port, '/v1/models/simple-model:predict', huge);
    expect(res.status).toBe(413);
    await up.waitFor((c) => c.jsonLines().some((l) => l.responseStatus === 413), 'the 413 line');
    const line = up.jsonLines().find((l) => l.responseStatus === 413);
    expect(line).toMatchObject({
      level: 'warn',
      requestBodyTruncated: true,
      requestBodySize: Buffer.byteLength(huge),
    });
    expect(line?.requestBodySha256).toMatch(/^[0-9a-f]{64}$/);
    expect((line?.requestBody as string).length).toBe(1024 * 1024);
  });

  it('stops on SIGTERM with exit code 0 after writing every line', async () => {
    const before = up.jsonLines().length;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(port, '/v1/models/simple-model:predict', `{"instances":[${i}]}`),
      ),
    );
    expect(await up.stop('SIGTERM')).toBe(0);
    expect(up.jsonLines().length).toBe(before + 50);
    expect(up.stderr()).toMatch(/stopped cleanly/);
  });
});

describe('inferlog up with examples/inferenceservice-with-response-logging.yaml (mode: all)', () => {
  it('adds responseBody to every line', async () => {
    const port = await freePort();
    const up = await startCli(['up', '-f', 'examples/inferenceservice-with-response-logging.yaml'], {
      PORT: String(port),
    });
    try {
      await exec(testRequest, { env: { ...process.env, INGRESS_PORT: String(port) } });
      await up.waitFor((c) => c.jsonLines().length >= 1, 'the log line');
      expect(up.jsonLines()[0]).toMatchObject({
        requestBody: '{"instances": [1.0, 2.0]}',
        responseStatus: 200,
        responseBody: '{"predictions":[3,5]}',
      });
    } finally {
      await up.stop();
    }
  });
});

describe('configuration errors', () => {
  it('inferlog validate prints FILE:LINE:COL: field: message and exits 1', async () => {
    const bad = path.join(REPO_ROOT, 'test/e2e/fixtures/bad-mode.yaml');
    const cli = runCli(['validate', '-f', bad]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(
      `${bad}:9:7: spec.predictor.logger.mode: invalid mode "RequestResponse": use \`all\` to log requests and responses`,
    );
  });

  it('inferlog validate accepts both examples', async () => {
    const cli = runCli([
      'validate',
      '-f',
      'examples/inferenceservice-with-logging.yaml',
      'examples/inferenceservice-with-response-logging.yaml',
    ]);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/inferenceservice-with-logging\.yaml: ok/);
  });

  it('validate --serve and up reject the same typos outside the logger block, with did-you-mean', async () => {
    const file = 'test/e2e/fixtures/typos.yaml';
    const expected = [
      `${file}:8:5: spec.predictor.loger: unknown field "loger" (did you mean "logger"?)`,
      `${file}:10:5: spec.predictor.model: storageUri is required`,
      `${file}:13:7: spec.predictor.model.storageURI: unknown field "storageURI" (did you mean "storageUri"?)`,
    ];
    const validate = runCli(['validate', '--serve', '-f', file]);
    expect(await validate.exited).toBe(1);
    const up = runCli(['up', '-f', file, '--port', String(await freePort())]);
    expect(await up.exited).toBe(1);
    for (const out of [validate.stderr(), up.stderr()]) {
      const lines = out.split('\n').filter((l) => l.startsWith(file));
      expect(lines).toHaveLength(expected.length);
      expected.forEach((e, i) => expect(lines[i]).toContain(e));
    }
    expect(up.stderr()).not.toMatch(/ready|storageUri is empty/);
  });

  it('inferlog up runs the same checks and starts nothing', async () => {
    const cli = runCli(['up', '-f', 'test/e2e/fixtures/bad-mode.yaml', '--port', String(await freePort())]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/bad-mode\.yaml:9:7: spec\.predictor\.logger\.mode/);
    expect(cli.stderr()).not.toMatch(/ready/);
  });
});
