/**
 * End to end: the redaction annotations of an InferenceService reach the log of a real `inferlog up`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

function isvcYaml(): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'inferlog-redaction-up-')), 'isvc.yaml');
  writeFileSync(
    file,
    `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: simple-model
  namespace: kserve-test
  annotations:
    inferlog.dev/redact-json-paths: "ssn,**.password"
    inferlog.dev/redact-patterns: "email"
    inferlog.dev/redact-marker: "***"
spec:
  predictor:
    logger:
      mode: all
      metadataHeaders: [X-Request-Id, X-User, Cookie]
    model:
      modelFormat:
        name: onnx
      storageUri: ${path.join(REPO_ROOT, 'examples/models/simple-model')}
`,
  );
  return file;
}

describe('inferlog up with redaction annotations', () => {
  it('logs the request with the named fields, emails and secret headers gone', async () => {
    const port = await freePort();
    const up = await startCli(['up', '-f', isvcYaml(), '--port', String(port)]);
    try {
      const body =
        '{"instances": [1.0, 2.0], "ssn": "123-45-6789", "meta": {"password": "hunter2", "by": "jane@example.com"}}';
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-request-id': 'r-9',
          'x-user': 'jane@example.com',
          cookie: 'session=s3cr3t',
        },
        body,
      });
      await res.arrayBuffer();
      await up.waitFor((c) => c.jsonLines().length >= 1, 'the log line');
      expect(await up.stop()).toBe(0);
      const out = up.stdout();
      for (const secret of ['123-45-6789', 'hunter2', 'jane@example.com', 's3cr3t'])
        expect(out).not.toContain(secret);
      const line = up.jsonLines()[0] as Record<string, unknown>;
      expect(line.requestBody).toBe(
        '{"instances": [1.0, 2.0], "ssn": "***", "meta": {"password": "***", "by": "***"}}',
      );
      expect(line.metadata).toEqual({ 'X-Request-Id': ['r-9'], 'X-User': ['***'] });
    } finally {
      await up.stop();
    }
  });
});

describe('inferlog up: a chat labelled text/event-stream is still redacted (issue 16 item 2)', () => {
  it('logs the chat with the message contents redacted', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inferlog-redaction-up-'));
    const yaml = path.join(dir, 'isvc.yaml');
    writeFileSync(
      yaml,
      `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: echo-llm
  annotations:
    inferlog.dev/redact-json-paths: "messages[*].content,choices[*].message.content"
spec:
  predictor:
    logger:
      mode: all
    model:
      modelFormat:
        name: inferlog-echo
`,
    );
    const port = await freePort();
    const up = await startCli(['up', '-f', yaml, '--port', String(port)]);
    try {
      const secret = 'my-diagnosis-is-SECRET-42';
      const res = await fetch(`http://127.0.0.1:${port}/openai/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'text/event-stream' },
        body: JSON.stringify({ model: 'echo-llm', messages: [{ role: 'user', content: secret }] }),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      await up.waitFor((c) => c.jsonLines().length >= 1, 'the log line');
      expect(await up.stop()).toBe(0);
      expect(up.stdout()).not.toContain(secret);
      const line = up.jsonLines()[0] as Record<string, unknown>;
      expect(JSON.parse(line.requestBody as string)).toEqual({
        model: 'echo-llm',
        messages: [{ role: 'user', content: '[REDACTED]' }],
      });
    } finally {
      await up.stop();
    }
  });
});
