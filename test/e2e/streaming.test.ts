// Streaming capture end to end: `inferlog up` serving the inferlog-echo text model over SSE.
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';

const chat = (content: string) =>
  JSON.stringify({
    model: 'echo-llm',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content }],
  });

describe('streaming capture through inferlog up', () => {
  let up: CliProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    up = await startCli(['up', '-f', 'examples/inferenceservice-streaming.yaml', '--port', String(port)]);
  });
  afterAll(async () => {
    await up.stop();
  });

  it('delivers chunks as they are produced and logs timing, assembled text and usage', async () => {
    const arrivals: number[] = [];
    let text = '';
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/openai/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        },
        (res) => {
          res.on('data', (c: Buffer) => {
            arrivals.push(performance.now());
            text += c.toString();
          });
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(chat('streams are logged whole'));
    });
    // Several reads spread over time: the stream was not buffered into one response.
    expect(arrivals.length).toBeGreaterThanOrEqual(4);
    expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(40);
    expect(text).toContain('data: [DONE]');

    await up.waitFor((c) => c.jsonLines().length >= 1, 'the log line');
    const line = up.jsonLines()[0] as {
      stream: Record<string, unknown>;
      responseBody: string;
      responseStatus: number;
    };
    expect(line.responseStatus).toBe(200);
    expect(line.responseBody).toBe(text);
    expect(line.stream).toMatchObject({
      partial: false,
      assembledText: 'streams are logged whole',
      usage: { promptTokens: 4, completionTokens: 4, totalTokens: 8 },
    });
    expect(line.stream.chunks as number).toBeGreaterThanOrEqual(4);
    expect(line.stream.ttfbMs as number).toBeLessThan(line.stream.ttlbMs as number);
  });

  it('logs a stream the client abandoned as partial, with what was sent so far', async () => {
    const before = up.jsonLines().length;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: '/openai/v1/chat/completions', method: 'POST' },
        (res) => {
          let seen = '';
          res.on('data', (c: Buffer) => {
            seen += c.toString();
            // Hang up after the first real token.
            if (seen.includes('"content":"one"')) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', () => {});
      req.on('close', resolve);
      req.on('response', () => {});
      req.end(chat('one two three four five six seven eight nine ten'));
      setTimeout(() => reject(new Error('no token arrived')), 10_000);
    });
    await up.waitFor((c) => c.jsonLines().length > before, 'the partial line');
    const line = up.jsonLines()[before] as { stream: Record<string, unknown>; error: { code: string } };
    expect(line.stream).toMatchObject({ partial: true, reason: 'CLIENT_ABORTED' });
    expect(line.error.code).toBe('CLIENT_ABORTED');
    expect(line.stream.assembledText as string).toMatch(/^one/);
    expect(line.stream.assembledText).not.toContain('ten');
  });
});

describe('streaming capture reaching the collector', () => {
  it('stores the stream summary with the response half', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inferlog-stream-'));
    const collectorPort = await freePort();
    const collector = await startCli([
      'collect',
      '--port',
      String(collectorPort),
      '--store',
      `sqlite:${path.join(dir, 'db.sqlite')}`,
    ]);
    const yaml = path.join(dir, 'isvc.yaml');
    writeFileSync(
      yaml,
      `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: echo-llm
spec:
  predictor:
    logger:
      mode: all
      url: http://127.0.0.1:${collectorPort}/
    model:
      modelFormat:
        name: inferlog-echo
`,
    );
    const port = await freePort();
    const up = await startCli(['up', '-f', yaml, '--port', String(port)]);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/openai/v1/chat/completions`, {
        method: 'POST',
        body: chat('to the store'),
      });
      await res.text();
      let item: { id: string; complete: boolean } | undefined;
      for (let i = 0; i < 100 && !item?.complete; i++) {
        const list = (await (
          await fetch(`http://127.0.0.1:${collectorPort}/api/v1/exchanges?model=echo-llm`)
        ).json()) as { items: Array<{ id: string; complete: boolean }> };
        item = list.items[0];
        if (!item?.complete) await new Promise((r) => setTimeout(r, 100));
      }
      const detail = (await (
        await fetch(`http://127.0.0.1:${collectorPort}/api/v1/exchanges/${item?.id}`)
      ).json()) as {
        response: { stream: Record<string, unknown>; contentType: string };
      };
      expect(detail.response.contentType).toMatch(/^text\/event-stream/);
      expect(detail.response.stream).toMatchObject({
        partial: false,
        // The text the stdout line shows travels to the collector too (issue 14, item 3).
        assembledText: 'to the store',
        usage: { promptTokens: 3, completionTokens: 3, totalTokens: 6 },
      });
      expect(detail.response.stream.chunks as number).toBeGreaterThanOrEqual(3);
    } finally {
      await up.stop();
      await collector.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
