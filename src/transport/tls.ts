/**
 * Client TLS to a log destination, with KServe's option names (`--logger-ca-cert-file`,
 * `--logger-tls-skip-verify`). One loader for every sink and source that dials out (http, kafka).
 *
 *   tls.caCertFile ──read at start──▶ ca (replaces the system roots, like Go's RootCAs) ─┐
 *   tls.skipVerify ─────────────────▶ rejectUnauthorized = !skipVerify ─────────────────┤
 *   tls.clientCertFile + clientKeyFile ──read at start──▶ cert, key (mutual TLS) ────────┴─▶ connect options
 *
 * Stricter than KServe on purpose: a CA file that cannot be read, or that holds no PEM
 * certificate, is a startup error (KServe logs a warning and silently trusts the system roots).
 */
import { readFile } from 'node:fs/promises';
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
