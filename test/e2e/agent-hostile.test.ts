// `inferlog agent` against hostile clients, in front of a raw-socket model server that records
// exactly what it received: what the model processed must always be what the log says.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';
import {
  finalStatus,
  headerValues,
  rawRequest,
  startRawModelServer,
  type RawModelServer,
} from '../helpers/raw-http.js';

const curl = await new Promise<string | undefined>((resolve) =>
  execFile('which', ['curl'], (err, out) => resolve(err ? undefined : out.trim())),
);

describe('inferlog agent against hostile clients', () => {
  let model: RawModelServer;
  let agent: CliProcess;
  let port: number;
  let dir: string;

  const logLines = () => agent.jsonLines().filter((l) => l.msg === 'Incoming request');
  const lineFor = (url: string) => logLines().find((l) => l.url === url);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inferlog-hostile-'));
    model = await startRawModelServer();
    port = await freePort();
    agent = await startCli([
      'agent',
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--component-port',
      String(model.port),
      '--log-url',
      'stdout',
      '--request-body-timeout',
      '1s',
      '--request-buffer-bytes',
      '64KiB',
    ]);
  });
  afterAll(async () => {
    await agent?.stop();
    await model?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(curl === undefined)(
    'passes a large `curl --data-binary @file` (Expect: 100-continue)',
    async () => {
      const file = join(dir, 'big.json');
      const body = `{"instances":[${'1,'.repeat(1024 * 1024)}1]}`;
      writeFileSync(file, body);
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          curl as string,
          [
            '-sS',
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            '-H',
            'Content-Type: application/json',
            '--data-binary',
            `@${file}`,
            `http://127.0.0.1:${port}/v1/models/big:predict`,
          ],
          (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
        ),
      );
      expect(out).toBe('200');
      const got = model.received.find((r) => r.requestLine.includes('/v1/models/big:predict'));
      expect(got?.body.length).toBe(body.length);
      expect(headerValues(got!, 'expect')).toEqual([]);
      await agent.waitFor(() => lineFor('/v1/models/big:predict') !== undefined, 'the log line');
      expect(lineFor('/v1/models/big:predict')).toMatchObject({ responseStatus: 200 });
      expect(lineFor('/v1/models/big:predict')?.error).toBeUndefined();
    },
  );

  it('answers a duplicate Host with 400 and logs it with a reason', async () => {
    const raw = await rawRequest(
      port,
      'POST /dup-host HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nContent-Length: 2\r\n\r\n{}',
    );
    expect(finalStatus(raw)).toBe(400);
    await agent.waitFor(() => lineFor('/dup-host') !== undefined, 'the log line');
    expect(lineFor('/dup-host')).toMatchObject({
      responseStatus: 400,
      error: { code: 'CLIENT_REQUEST_INVALID' },
    });
    expect(model.received.some((r) => r.requestLine.includes('/dup-host'))).toBe(false);
  });

  it('cuts off a stalled body with a 408 after --request-body-timeout, and logs it', async () => {
    const raw = await rawRequest(
      port,
      'POST /stalled HTTP/1.1\r\nHost: m\r\nContent-Length: 1000\r\n\r\n{"instances":',
      10_000,
    );
    expect(finalStatus(raw)).toBe(408);
    await agent.waitFor(() => lineFor('/stalled') !== undefined, 'the log line');
    expect(lineFor('/stalled')).toMatchObject({ responseStatus: 408, error: { code: 'CLIENT_TIMEOUT' } });
  });

  // Regression guard (issue 16): node's parser rejects every CL/TE ambiguity, so nothing can
  // reach the model that the log does not show as its own exchange.
  it('never lets a smuggled request reach the model unlogged', async () => {
    const tail = (i: number) => `GET /smuggled-${i} HTTP/1.1\r\nHost: m\r\n\r\n`;
    const attacks = [
      // CL.TE and TE.CL
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${tail(i)}`,
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n${tail(i)}`,
      // duplicate Content-Length, differing and equal
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}${tail(i)}`,
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}${tail(i)}`,
      (i: number) => `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nContent-Length: 2, 40\r\n\r\n{}${tail(i)}`,
      // obfuscated Transfer-Encoding
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nContent-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${tail(i)}`,
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nContent-Length: 4\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n${tail(i)}`,
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n${tail(i)}`,
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${tail(i)}`,
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n${tail(i)}`,
      (i: number) =>
        `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\n\r\n3;ext\nabc\r\n0\r\n\r\n${tail(i)}`,
      // control: an honest pipelined pair reaches the model as two requests, each logged
      (i: number) => `POST /smug-${i} HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\n\r\n{}${tail(i)}`,
    ];
    const before = model.received.length;
    const statuses: number[] = [];
    for (const [i, attack] of attacks.entries())
      statuses.push(finalStatus(await rawRequest(port, attack(i), 500)));
    const reached = model.received.slice(before).filter((r) => /\/smug/.test(r.requestLine));
    // (Pipelined requests go upstream on separate connections: in no particular order.)
    expect(reached.map((r) => r.requestLine).sort()).toEqual([
      `GET /smuggled-${attacks.length - 1} HTTP/1.1`,
      `POST /smug-${attacks.length - 1} HTTP/1.1`,
    ]);
    // Every request the model processed is logged as its own exchange, with the same bytes.
    for (const r of reached) {
      const url = r.requestLine.split(' ')[1] as string;
      await agent.waitFor(() => lineFor(url) !== undefined, `the log line for ${url}`);
      const line = lineFor(url) as Record<string, unknown>;
      expect(line.method, url).toBe(r.requestLine.split(' ')[0]);
      expect(line.requestBody ?? '', url).toBe(r.body.toString());
    }
    // And nothing was both rejected and forwarded.
    for (const [i, status] of statuses.entries()) {
      if (status === 400) expect(reached.some((r) => r.requestLine.includes(`/smug-${i} `))).toBe(false);
    }
    // The attacks are answered: rejected by the parser, or proxied as one request each.
    expect(statuses.every((s) => s === 400 || s === 200)).toBe(true);
  });

  it('rejects a bad request-limit flag with the flag name, as a usage error (2) like any bad flag', async () => {
    const cli = runCli(['agent', '--port', String(await freePort()), '--request-body-timeout', 'soon']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/--request-body-timeout: /);
  });
});
