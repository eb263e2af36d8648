// https sinks: a private CA given by file (KServe's --logger-ca-cert-file), skip-verify, and a missing CA file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpSink } from '../../src/sinks/http/sink.js';
import { scenarioExchange } from './kserve-scenario.js';
import { sinkOptions, startRecorder, type Recorder } from './recorder.js';

let dir: string;
let rec: Recorder;

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI. */
function makeCertificates(d: string): { key: string; cert: string } {
  const ossl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=inferlog test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  ossl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(d, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ossl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '1',
    '-extfile',
    'ext.cnf',
  );
  return {
    key: readFileSync(join(d, 'server.key'), 'utf8'),
    cert: readFileSync(join(d, 'server.crt'), 'utf8'),
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'inferlog-tls-'));
  rec = await startRecorder(makeCertificates(dir));
});
afterAll(async () => {
  await rec.close();
  rmSync(dir, { recursive: true, force: true });
});

async function trySend(tls: { caCertFile?: string; skipVerify: boolean }): Promise<unknown> {
  const sink = createHttpSink(new URL(rec.url), sinkOptions({ tls }));
  try {
    await sink.start();
    await sink.send([scenarioExchange()], new AbortController().signal);
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await sink.shutdown();
  }
}

describe('http sink over TLS', () => {
  it('delivers to a server whose certificate the CA file vouches for', async () => {
    rec.received.length = 0;
    expect(await trySend({ caCertFile: join(dir, 'ca.crt'), skipVerify: false })).toBeUndefined();
    expect(rec.received.length).toBe(2);
    expect(rec.header(rec.received[0]!, 'Ce-Specversion')).toBe('1.0');
  });

  it('refuses an unknown CA without the CA file, saying what to set', async () => {
    const err = await trySend({ skipVerify: false });
    expect(err).toMatchObject({ code: 'SINK_UNREACHABLE' });
    expect((err as Error).message).toContain('tls.caCertFile');
  });

  it('delivers without verification when skipVerify is set', async () => {
    expect(await trySend({ skipVerify: true })).toBeUndefined();
  });

  it('fails at start, naming the file, when the CA file is missing (KServe would fall back to system roots)', async () => {
    const missing = join(dir, 'nope.crt');
    const err = await trySend({ caCertFile: missing, skipVerify: false });
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toContain('ENOENT');
  });

  it('fails at start when the CA file is not a PEM certificate', async () => {
    const bogus = join(dir, 'bogus.crt');
    writeFileSync(bogus, 'hello');
    expect(await trySend({ caCertFile: bogus, skipVerify: false })).toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
