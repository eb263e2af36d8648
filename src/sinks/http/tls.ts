/**
 * TLS for https sinks, with KServe's option names (`--logger-ca-cert-file`, `--logger-tls-skip-verify`).
 *
 *   tls.caCertFile ──read at start──▶ ca (replaces the system roots, like Go's RootCAs) ─┐
 *   tls.skipVerify ─────────────────▶ rejectUnauthorized = !skipVerify ─────────────────┴─▶ pool connect options
 *
 * Stricter than KServe on purpose: a CA file that cannot be read is a startup error
 * (KServe logs a warning and silently trusts the system roots instead).
 */
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { InferlogError } from '../../core/errors.js';
import type { HttpSinkConfig } from './config.js';

export async function tlsConnectOptions(config: HttpSinkConfig): Promise<ConnectionOptions | undefined> {
  if (!config.https) return undefined;
  const opts: ConnectionOptions = { minVersion: 'TLSv1.2', rejectUnauthorized: !config.tls.skipVerify };
  const file = config.tls.caCertFile;
  if (file !== undefined) {
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
  }
  return opts;
}
