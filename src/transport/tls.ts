/**
 * Client TLS to a log destination, with KServe's option names (`--logger-ca-cert-file`,
 * `--logger-tls-skip-verify`). One loader for every sink and source that dials out (http, kafka).
 *
 *   tls.caCertFile ──read at start──▶ ca (replaces the system roots, like Go's RootCAs) ─┐
 *   tls.skipVerify ─────────────────▶ rejectUnauthorized = !skipVerify ─────────────────┤
 *   tls.clientCertFile + clientKeyFile ──read at start──▶ cert, key (mutual TLS) ────────┴─▶ connect options
 *                                      └─re-read when renewed (clientTlsSource)
 *
 * Stricter than KServe on purpose: a CA file that cannot be read, or that holds no PEM
 * certificate, is a startup error (KServe logs a warning and silently trusts the system roots).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { InferlogError } from '../core/errors.js';

export interface ClientTlsSettings {
  caCertFile?: string | undefined;
  skipVerify: boolean;
  /** PEM client certificate and its key, presented when the server asks (mutual TLS). */
  clientCertFile?: string | undefined;
  clientKeyFile?: string | undefined;
}

async function readPem(file: string, setting: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new InferlogError(
      'CONFIG_INVALID',
      `logger ${setting} ${file}: cannot read the ${what} (${reason})`,
      {
        cause: err,
      },
    );
  }
}

export async function loadClientTls(tls: ClientTlsSettings): Promise<ConnectionOptions> {
  const opts: ConnectionOptions = { minVersion: 'TLSv1.2', rejectUnauthorized: !tls.skipVerify };
  // The config loader checked that the pair matches (config/credential-files.ts); read them again
  // here so the files in force are the ones the sink starts with.
  if (tls.clientCertFile !== undefined && tls.clientKeyFile !== undefined) {
    opts.cert = await readPem(tls.clientCertFile, 'tls.clientCertFile', 'client certificate');
    opts.key = await readPem(tls.clientKeyFile, 'tls.clientKeyFile', 'client key');
  }
  const file = tls.caCertFile;
  if (file === undefined) return opts;
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new InferlogError(
      'CONFIG_INVALID',
      `logger tls.caCertFile ${file}: cannot read the CA certificate (${reason})`,
      { cause: err },
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `logger tls.caCertFile ${file}: not a PEM certificate (no "BEGIN CERTIFICATE" block)`,
    );
  }
  opts.ca = pem;
  return opts;
}

/**
 * The connect options in force, with the client certificate re-read when its files change
 * (cert-manager renews client certificates too), so new connections present the renewed one
 * without a restart:
 *
 *   current() ──(≥ recheckMs since the last look)──▶ stat cert + key ──changed──▶ read both,
 *             ◀── options, version ────────────────── the key must match the cert ──┘ (else keep the old pair)
 *
 * A half-written rotation (the certificate already new, the key still old) keeps the old pair
 * until both match. Connections already open keep the certificate they were made with.
 */
export interface ClientTlsSource {
  /** The options for the next connection; `version` changes when the certificate was renewed. */
  current(): { options: ConnectionOptions; version: number };
}

export async function clientTlsSource(tls: ClientTlsSettings, recheckMs = 1000): Promise<ClientTlsSource> {
  const first = await loadClientTls(tls);
  const certFile = tls.clientCertFile;
  const keyFile = tls.clientKeyFile;
  let options = first;
  let version = 0;
  if (certFile === undefined || keyFile === undefined) return { current: () => ({ options, version }) };
  const stamp = async (): Promise<string> => {
    const [c, k] = await Promise.all([stat(certFile), stat(keyFile)]);
    return `${c.mtimeMs}:${c.size}:${c.ino}/${k.mtimeMs}:${k.size}:${k.ino}`;
  };
  let seen = await stamp().catch(() => '');
  let lastLook = Date.now();
  let looking = false;
  const look = async (): Promise<void> => {
    try {
      const now = await stamp();
      if (now === seen) return;
      const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
      if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) return; // mid-rotation
      options = { ...options, cert, key };
      version++;
      seen = now;
    } catch {
      // Unreadable or half-written: keep the pair in force and look again later.
    }
  };
  return {
    current() {
      const now = Date.now();
      if (!looking && now - lastLook >= recheckMs) {
        lastLook = now;
        looking = true;
        void look().finally(() => (looking = false));
      }
      return { options, version };
    },
  };
}
