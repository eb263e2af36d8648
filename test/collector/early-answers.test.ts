/**
 * An answer sent before the request is read (413 for a body over the limit, 431 for a head over the
 * limit, 401 before an upload) must reach the client as that status, not as a connection reset
 * (issue 9: a 20 MB batch to the collector and a 64 KiB header on `inferlog up` were answered with
 * RST, so the sender logged "socket hang up" / EPIPE instead of the reason). Real processes, real
 * clients: fetch (undici) for the collector's 413, and a raw socket that keeps writing its whole
 * request as curl does, which sees a reset as an error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-early-'));
const running: CliProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

async function start(args: string[]): Promise<URL> {
  const p = await startCli(args);
  running.push(p);
  const m = /(?:ready on|on) (http:\/\/[^\s)]+)/.exec(p.stderr());
  if (!m) throw new Error(`no URL in ${p.stderr()}`);
  return new URL(m[1]!);
}

/**
 * Writes `head` and then `bodyBytes` bytes in 64 KiB chunks, as a client that does not watch for an
 * early answer does, and resolves with what came back and the socket error, if any, once closed.
 */
function writeWhole(url: URL, head: string, bodyBytes: number): Promise<{ answer: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let answer = '';
    let error: string | undefined;
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => resolve({ answer, error }));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < bodyBytes && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (!socket.destroyed) socket.end();
    };
    socket.write(head, pump);
    setTimeout(() => socket.destroy(), 30_000).unref();
  });
}

describe('answers sent before the request is read arrive intact', { timeout: 90_000 }, () => {
  it('collector: a 20 MB batch gets 413 PAYLOAD_TOO_LARGE, not a reset (fetch)', async () => {
    const url = await start(['collect', '--port', '0', '--store', `sqlite:${join(dir, 'a.db')}`]);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/cloudevents-batch+json',
          'ce-specversion': '1.0',
        },
        body: Buffer.alloc(20 * 1024 * 1024, 0x20),
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    }
    // The connection limits still hold after lingering: the collector answers.
    expect((await fetch(new URL('/healthz', url))).status).toBe(200);
  });

  it('collector: a 600 KiB header gets 431 and a clean close, while the client keeps writing', async () => {
    const url = await start(['collect', '--port', '0', '--store', `sqlite:${join(dir, 'b.db')}`]);
    const head = `POST / HTTP/1.1\r\nHost: c\r\nX-Big: ${'a'.repeat(600 * 1024)}\r\nContent-Length: 3145728\r\n\r\n`;
    // Several times: whether the reset wins is a race on a single attempt.
    for (let i = 0; i < 8; i++) {
      const r = await writeWhole(url, head, 3 * 1024 * 1024);
      expect(r.answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(r.error).toBeUndefined();
    }
  });

  it('up: a 64 KiB header gets 431 and a clean close, while the client keeps writing', async () => {
    const url = await start(['up', '-f', 'examples/inferenceservice-with-logging.yaml', '--port', '0']);
    const head =
      `POST /v1/models/sklearn-iris:predict HTTP/1.1\r\nHost: m\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 3145728\r\n\r\n';
    // Several times: whether the reset wins is a race on a single attempt.
    for (let i = 0; i < 8; i++) {
      const r = await writeWhole(url, head, 3 * 1024 * 1024);
      expect(r.answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(r.error).toBeUndefined();
    }
  });

  it('agent: a 64 KiB header gets 431 and a clean close, while the client keeps writing', async () => {
    // The head is refused before the model is contacted: no model server is needed.
    const p = await startCli(['agent', '--port', '0', '--component-port', '9', '--log-url', 'stdout']);
    running.push(p);
    const port = /proxying :(\d+)/.exec(p.stderr())![1]!;
    const url = new URL(`http://127.0.0.1:${port}/`);
    const head =
      `POST /v1/models/m:predict HTTP/1.1\r\nHost: m\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 3145728\r\n\r\n';
    // Several times: whether the reset wins is a race on a single attempt.
    for (let i = 0; i < 8; i++) {
      const r = await writeWhole(url, head, 3 * 1024 * 1024);
      expect(r.answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(r.error).toBeUndefined();
    }
  });
});
