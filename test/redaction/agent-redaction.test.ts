/**
 * End to end: `inferlog agent` in front of a real model-like HTTP server that echoes what it gets
 * (so every secret comes back in the response too) and streams SSE. With a redaction policy set by
 * flags, no secret may reach the stdout log or the file log, in any body, header, url or text.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';
import { decodeRecord } from '../../src/formats/jsonl-record.js';
import type { Exchange } from '../../src/core/exchange.js';

const SECRETS = {
  ssn: '123-45-6789',
  nestedSsn: 'SSN-NESTED-77',
  password: 'hunter2-PASSWORD',
  email: 'jane.doe@example.com',
  card: '4111 1111 1111 1111',
  bearer: 'Bearer tok3n.s3cret',
  streamed: 'STREAMED-SECRET',
  binary: 'BINARY-SECRET',
};

/** An upstream that echoes JSON requests back and answers /chat/completions with an SSE stream. */
function startUpstream(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith('/chat/completions')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const words = [`The answer is ${SECRETS.streamed}`, ` mail ${SECRETS.email}`];
        for (const w of words)
          res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: w } }] })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(req.url?.includes('fail') ? 500 : 200, {
        'content-type': req.headers['content-type'] ?? 'application/octet-stream',
      });
      res.end(body);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

const POLICY = [
  '--redact-json-paths',
  'ssn,instances[*].ssn,**.password,choices[*].delta.content',
  '--redact-patterns',
  'email,card,bearer-token',
  '--metadata-headers',
  'X-Request-Id,X-User,Authorization',
];

describe('inferlog agent with a redaction policy', () => {
  let upstream: Server;
  let toStdout: CliProcess;
  let toFile: CliProcess;
  let stdoutPort: number;
  let filePort: number;
  const logFile = path.join(mkdtempSync(path.join(tmpdir(), 'inferlog-redaction-')), 'requests.jsonl');

  beforeAll(async () => {
    const upstreamPort = await freePort();
    upstream = await startUpstream(upstreamPort);
    stdoutPort = await freePort();
    filePort = await freePort();
    const common = [
      '--component-port',
      String(upstreamPort),
      '--host',
      '127.0.0.1',
      '--inference-service',
      'm',
      '--log-mode',
      'all',
      ...POLICY,
    ];
    [toStdout, toFile] = await Promise.all([
      startCli(['agent', '--port', String(stdoutPort), '--log-url', 'stdout', ...common]),
      startCli([
        'agent',
        '--port',
        String(filePort),
        '--log-url',
        `file://${logFile}?format=record`,
        ...common,
      ]),
    ]);
  });
  afterAll(async () => {
    await toStdout?.stop();
    await toFile?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  async function traffic(port: number): Promise<void> {
    const json = JSON.stringify({
      ssn: SECRETS.ssn,
      instances: [{ ssn: { id: SECRETS.nestedSsn }, x: 1 }],
      auth: { Password: SECRETS.password },
      note: `card ${SECRETS.card}, mail ${SECRETS.email}`,
    });
    const headers = {
      'content-type': 'application/json',
      'x-user': SECRETS.email,
      authorization: SECRETS.bearer,
      'x-request-id': 'r-1',
    };
    const calls: Array<[string, RequestInit]> = [
      ['/v1/models/m:predict', { method: 'POST', headers, body: json }],
      ['/v1/models/m:predict?fail=1', { method: 'POST', headers, body: json }],
      [`/v1/models/m:predict?user=${SECRETS.email}`, { method: 'POST', headers, body: json.slice(0, 40) }], // not JSON
      [
        '/v1/models/m:predict',
        {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: `ssn ${SECRETS.ssn} ${SECRETS.binary}`,
        },
      ],
      [
        '/v1/models/m:predict',
        {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SECRETS.binary)]),
        },
      ],
      [
        '/openai/v1/chat/completions',
        {
          method: 'POST',
          headers,
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true }),
        },
      ],
    ];
    for (const [p, init] of calls) {
      const res = await fetch(`http://127.0.0.1:${port}${p}`, init);
      await res.arrayBuffer();
    }
  }

  it('keeps every secret out of the stdout log and the file log, and still logs every exchange', async () => {
    await Promise.all([traffic(stdoutPort), traffic(filePort)]);
    await toStdout.waitFor((c) => c.jsonLines().length >= 6, 'six log lines');
    expect(await toStdout.stop()).toBe(0);
    expect(await toFile.stop()).toBe(0);

    const stdout = toStdout.stdout();
    const fileText = readFileSync(logFile, 'utf8');
    const records: Exchange[] = fileText.trim().split('\n').map(decodeRecord);
    expect(records).toHaveLength(6);
    // The record form has bodies in base64: look at the decoded bytes too.
    const decoded = records
      .flatMap((r) => [r.request, r.response])
      .map((b) => (b ? Buffer.from(b.bytes).toString('latin1') : ''))
      .join('\n');
    const everything = [
      stdout,
      fileText,
      decoded,
      JSON.stringify(records.map((r) => ({ ...r, request: undefined, response: undefined }))),
    ].join('\n');
    for (const [name, secret] of Object.entries(SECRETS)) {
      expect(everything.includes(secret), `${name} leaked`).toBe(false);
    }

    // What is left is still useful: structure, other fields, allow-listed non-secret headers.
    const first = toStdout.jsonLines()[0] as Record<string, unknown>;
    expect(JSON.parse(first.requestBody as string)).toEqual({
      ssn: '[REDACTED]',
      instances: [{ ssn: '[REDACTED]', x: 1 }],
      auth: { Password: '[REDACTED]' },
      note: 'card [REDACTED], mail [REDACTED]',
    });
    expect(first.metadata).toEqual({ 'X-Request-Id': ['r-1'], 'X-User': ['[REDACTED]'] });
    const chat = toStdout.jsonLines().find((l) => String(l.url).endsWith('/chat/completions')) as Record<
      string,
      unknown
    >;
    expect(chat.responseBody).toContain('"delta":{"content":"[REDACTED]"}');
    expect(chat.responseBody).toContain('data: [DONE]');
    const stream = chat.stream as Record<string, unknown> | undefined;
    if (stream?.assembledText !== undefined) expect(stream.assembledText).toBe('[REDACTED]');
  });
});

/** Sends one request with raw bytes and headers through the agent; resolves with the status. */
async function post(port: number, urlPath: string, headers: Record<string, string>, body: Buffer | string) {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { method: 'POST', headers, body });
  await res.arrayBuffer();
  return res.status;
}

describe('a hostile client cannot choose how its body is redacted (issue 16 item 2)', () => {
  const SSN = '123-45-6789';
  const MAIL = 'jane.doe@example.com';
  const WITHHELD = '[REDACTED] (whole body withheld';
  let upstream: Server;
  let agent: CliProcess;
  let port: number;

  beforeAll(async () => {
    const upstreamPort = await freePort();
    upstream = await startUpstream(upstreamPort); // echoes the body with the client's content type
    port = await freePort();
    agent = await startCli([
      'agent',
      '--port',
      String(port),
      '--log-url',
      'stdout',
      '--component-port',
      String(upstreamPort),
      '--host',
      '127.0.0.1',
      '--inference-service',
      'm',
      '--redact-json-paths',
      'ssn,messages[*].content,choices[*].delta.content',
      '--redact-patterns',
      'email',
    ]);
  });
  afterAll(async () => {
    await agent?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  it('applies the JSON paths to a JSON body whatever its label, and withholds what it cannot prove clean', async () => {
    const json = JSON.stringify({ ssn: SSN, keep: 'visible' });
    const utf16 = Buffer.from(JSON.stringify({ ssn: SSN, mail: MAIL }), 'utf16le');
    const cases: Array<[string, Record<string, string>, Buffer | string]> = [
      ['sse', { 'content-type': 'text/event-stream' }, json],
      ['sse-charset', { 'content-type': 'Text/Event-Stream; charset=utf-8' }, json],
      ['plain', { 'content-type': 'text/plain' }, json],
      ['none', {}, Buffer.from(json)],
      ['ndjson', { 'content-type': 'application/x-ndjson' }, json],
      ['form', { 'content-type': 'application/x-www-form-urlencoded' }, `ssn=${SSN}&keep=visible`],
      ['utf16', { 'content-type': 'application/json; charset=utf-16' }, utf16],
      [
        'multipart',
        { 'content-type': 'multipart/form-data; boundary=XX' },
        `--XX\r\nContent-Disposition: form-data; name="j"\r\n\r\n${json}\r\n--XX--\r\n`,
      ],
      // Lenient parsers (Python's json) accept NaN: each line alone is not the document.
      ['lenient', { 'content-type': 'application/x-ndjson' }, `{"x": NaN, "ssn":\n"${SSN}"\n}`],
      ['gzip', { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' }, gzipSync(json)],
      [
        'chat',
        { 'content-type': 'text/event-stream' },
        JSON.stringify({ messages: [{ role: 'user', content: `my ssn is ${SSN}` }] }),
      ],
    ];
    for (const [name, headers, body] of cases)
      expect(await post(port, `/v1/models/m:predict?case=${name}`, headers, body), name).toBe(200);
    await agent.waitFor((c) => c.jsonLines().length >= cases.length, 'one log line per case');

    const out = agent.stdout();
    expect(out).not.toContain(SSN);
    expect(out).not.toContain(MAIL);
    const line = (name: string): Record<string, unknown> =>
      agent.jsonLines().find((l) => String(l.url).endsWith(`case=${name}`)) as Record<string, unknown>;
    const redacted = { ssn: '[REDACTED]', keep: 'visible' };
    for (const name of ['sse', 'sse-charset', 'plain', 'none', 'ndjson', 'gzip'])
      expect(JSON.parse(line(name).requestBody as string), name).toEqual(redacted);
    // The upstream echoes body and label, so the response half carries the same attack.
    for (const name of ['sse', 'sse-charset', 'plain', 'none', 'ndjson'])
      expect(JSON.parse(line(name).responseBody as string), name).toEqual(redacted);
    expect(JSON.parse(line('chat').requestBody as string)).toEqual({
      messages: [{ role: 'user', content: '[REDACTED]' }],
    });
    for (const name of ['form', 'utf16', 'multipart', 'lenient']) {
      expect(line(name), name).toBeDefined();
      expect(String(line(name).requestBody), name).toContain(WITHHELD);
      expect(String(line(name).responseBody), name).toContain(WITHHELD);
    }
  });
});

describe('secret query parameters are withheld from the logged url (issue 16 item 14)', () => {
  it('logs ?api_key=… and ?X-Amz-Signature=… with the marker, through a real agent, with no redaction flags', async () => {
    const upstreamPort = await freePort();
    const upstream = await startUpstream(upstreamPort);
    const port = await freePort();
    const agent = await startCli([
      'agent',
      '--port',
      String(port),
      '--log-url',
      'stdout',
      '--component-port',
      String(upstreamPort),
      '--host',
      '127.0.0.1',
      '--inference-service',
      'm',
      '--redact-query-params',
      'tenant_secret',
    ]);
    try {
      const url =
        '/v1/models/m:predict?api_key=sk-live-QUERYSECRET&X-Amz-Signature=SIGSECRET&tenant_secret=TSECRET&n=1';
      expect(await post(port, url, { 'content-type': 'application/json' }, '{"x":1}')).toBe(200);
      await agent.waitFor((c) => c.jsonLines().length >= 1, 'the log line');
      for (const s of ['QUERYSECRET', 'SIGSECRET', 'TSECRET']) expect(agent.stdout()).not.toContain(s);
      expect(agent.jsonLines()[0]?.url).toBe(
        '/v1/models/m:predict?api_key=[REDACTED]&X-Amz-Signature=[REDACTED]&tenant_secret=[REDACTED]&n=1',
      );
    } finally {
      await agent.stop();
      await new Promise((r) => upstream.close(r));
    }
  });
});

describe('a body built to make the scrubbers backtrack stalls nothing (issue 16 item 3)', () => {
  let upstream: Server;
  let agent: CliProcess;
  let port: number;

  beforeAll(async () => {
    const upstreamPort = await freePort();
    upstream = await startUpstream(upstreamPort);
    port = await freePort();
    agent = await startCli([
      'agent',
      '--port',
      String(port),
      '--log-url',
      'stdout',
      '--component-port',
      String(upstreamPort),
      '--host',
      '127.0.0.1',
      '--inference-service',
      'm',
      '--redact-patterns',
      'email,jwt',
    ]);
  });
  afterAll(async () => {
    await agent?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  it('answers an unrelated request while the attack bodies are scrubbed, and logs all three', async () => {
    const plain = { 'content-type': 'text/plain' };
    const attacks = [
      post(port, '/v1/models/m:predict?case=email', plain, 'a'.repeat(100_000) + '@'),
      post(port, '/v1/models/m:predict?case=jwt', plain, 'eyJ-'.repeat(25_000)),
    ];
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    expect(
      await post(
        port,
        '/v1/models/m:predict?case=unrelated',
        { 'content-type': 'application/json' },
        '{"x":1}',
      ),
    ).toBe(200);
    // A generous bound: the unrelated request waited 12.2 s behind the email attack before the fix.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(await Promise.all(attacks)).toEqual([200, 200]);
    await agent.waitFor((c) => c.jsonLines().length >= 3, 'three log lines');
  });
});
