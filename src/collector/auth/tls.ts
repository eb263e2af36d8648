/**
 * TLS on the collector's listeners, rotated without a restart, and client certificates as
 * credentials (mTLS).
 *
 *   --tls-cert, --tls-key, --tls-client-ca ──read──▶ secure context ──▶ https server(s)
 *        └── changed on disk (cert-manager renewal) ──watchFiles──▶ server.setSecureContext(new)
 *
 *   client certificate ──verified against --tls-client-ca?──no──▶ 401
 *                               └─ yes ──CN / subjectAltName──▶ auth file `certificates:` ──▶ Principal
 *
 * The handshake does not require a certificate (`rejectUnauthorized: false`): readers and the UI
 * use tokens on the same port. Whether a presented certificate is trusted is decided per request,
 * by the certificate authenticator, from the socket's verification result.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server as TlsServer, TLSSocket, SecureContextOptions } from 'node:tls';
import { createSecureContext } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { InferlogError } from '../../core/errors.js';
import type { OpLogger } from '../../core/log.js';
import type { FileWatch } from './file-watch.js';
import { watchFiles } from './file-watch.js';
import type { Authenticator } from './hook.js';
import { unauthenticated } from './hook.js';
import type { Principal } from './principal.js';
import type { AuthFileSource, CertificateEntry } from './token-file.js';
import { principalOf } from './token-file.js';

export interface ServerTlsFiles {
  certFile: string;
  keyFile: string;
  /** Client certificates are requested and verified against this CA bundle (mTLS). */
  clientCaFile?: string;
}

/** What https.createServer needs, beside the http options. */
export interface ServerTlsOptions extends SecureContextOptions {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export interface ServerTls {
  /** Options for a new https server, with the certificate in force now. */
  options(): ServerTlsOptions;
  /** Applies every later rotation to `server` too. */
  attach(server: TlsServer): void;
  /** Reads the files now and applies them if they changed. */
  check(): Promise<void>;
  close(): void;
}

const MIN_VERSION = 'TLSv1.2';

function problem(file: string, what: string, detail: string, cause?: unknown): InferlogError {
  return new InferlogError('CONFIG_INVALID', `${file}: ${what}: ${detail}`, { cause, details: { file } });
}

/**
 * Checks the PEM files make a usable context (certificate parses, key matches it, CA bundle holds a
 * certificate) and returns its options. Names the file at fault.
 */
function contextOptions(files: ServerTlsFiles, contents: readonly Buffer[]): SecureContextOptions {
  const [cert, key, ca] = contents as [Buffer, Buffer, Buffer | undefined];
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw problem(files.certFile, '--tls-cert', `not a PEM certificate (${(err as Error).message})`, err);
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key)))
      throw problem(
        files.keyFile,
        '--tls-key',
        `this key does not belong to the certificate in ${files.certFile}`,
      );
  } catch (err) {
    if (err instanceof InferlogError) throw err;
    throw problem(files.keyFile, '--tls-key', `not a PEM private key (${(err as Error).message})`, err);
  }
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----'))
    throw problem(
      files.clientCaFile!,
      '--tls-client-ca',
      'no PEM certificate in it (no "BEGIN CERTIFICATE")',
    );
  const options: SecureContextOptions = { cert, key, minVersion: MIN_VERSION, ...(ca ? { ca } : {}) };
  try {
    createSecureContext(options);
  } catch (err) {
    throw problem(files.certFile, '--tls-cert', (err as Error).message, err);
  }
  return options;
}

function readAll(paths: readonly string[], flags: readonly string[]): Buffer[] {
  return paths.map((p, i) => {
    try {
      return readFileSync(p);
    } catch (err) {
      throw problem(p, flags[i]!, `cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
    }
  });
}

/** Reads and checks the files (CONFIG_INVALID naming the file), then watches them for rotation. */
export function loadServerTls(files: ServerTlsFiles, log: OpLogger, intervalMs?: number): ServerTls {
  const paths = [files.certFile, files.keyFile, ...(files.clientCaFile ? [files.clientCaFile] : [])];
  const initial = readAll(paths, ['--tls-cert', '--tls-key', '--tls-client-ca']);
  let current = contextOptions(files, initial);
  const servers = new Set<TlsServer>();
  const watch: FileWatch = watchFiles(
    paths,
    initial,
    (contents) => {
      // A certificate that has already expired never becomes valid: serving it would fail every
      // handshake, while the one in use may still be good. (A not-yet-valid one is served: clocks
      // differ by seconds, and it would not be looked at again until the file changes.)
      const next = contextOptions(files, contents);
      const notAfter = new Date(new X509Certificate(contents[0]!).validTo);
      if (notAfter.getTime() < Date.now())
        throw problem(
          files.certFile,
          '--tls-cert',
          `the rotated certificate expired on ${notAfter.toISOString()}: the one in use stays until a valid one arrives`,
        );
      for (const server of servers) server.setSecureContext(next);
      current = next;
    },
    { what: 'TLS certificate', log, ...(intervalMs !== undefined ? { intervalMs } : {}) },
  );
  const mutual = files.clientCaFile !== undefined;
  return {
    options: () => ({ ...current, requestCert: mutual, rejectUnauthorized: false }),
    attach(server) {
      servers.add(server);
      server.once('close', () => servers.delete(server));
    },
    check: () => watch.check(),
    close: () => watch.close(),
  };
}

function matches(entry: CertificateEntry, cn: string | undefined, sans: readonly string[]): boolean {
  if (entry.subject !== undefined) return cn !== undefined && entry.subject === `CN=${cn}`;
  return entry.san !== undefined && sans.includes(entry.san);
}

/**
 * A verified client certificate → the principal its CN or subjectAltName maps to in the auth
 * file. No certificate: not its kind. A certificate the CA did not sign (or expired): 401. A
 * trusted certificate mapped to nothing: not its kind either, so a bearer token on the same
 * request still counts (the chain answers 401 when nothing else does).
 */
export function certificateAuthenticator(source: Pick<AuthFileSource, 'current'>): Authenticator {
  return {
    async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
      const socket = req.raw.socket as Partial<TLSSocket>;
      if (typeof socket.getPeerCertificate !== 'function') return undefined;
      const cert = socket.getPeerCertificate();
      if (cert === null || cert === undefined || Object.keys(cert).length === 0) return undefined;
      if (socket.authorized !== true)
        throw unauthenticated(
          `the client certificate is not accepted (${String(socket.authorizationError ?? 'not verified')}): ` +
            'it must be signed by the CA in --tls-client-ca and be valid now',
        );
      const cn = typeof cert.subject?.CN === 'string' ? cert.subject.CN : undefined;
      const sans = (cert.subjectaltname ?? '').split(/,\s*/).filter(Boolean);
      const entry = source.current().certificates.find((e) => matches(e, cn, sans));
      if (entry === undefined) return undefined;
      return principalOf(entry.subject ?? entry.san!, 'mtls', entry);
    },
  };
}
