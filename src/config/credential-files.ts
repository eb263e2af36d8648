/**
 * The files a sink's credentials live in (mounted from Kubernetes Secrets), checked when the config
 * loads so a bad mount is a startup error with the file and field, not a stream of failed sends:
 *
 *   inferlog.dev/log-token-file  / --log-token-file  ──▶ one bearer token (re-read on change by the sink)
 *   inferlog.dev/log-client-cert / --log-client-cert ─┐
 *   inferlog.dev/log-client-key  / --log-client-key  ─┴▶ a PEM certificate and the private key it certifies
 *   inferlog.dev/log-ca-cert     / --logger-ca-cert-file ▶ the CA the sink's certificate is checked against
 *
 * Messages name the file and what is wrong with it, never what it holds: a token file's content is a
 * secret, and so is a key file's.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readTokenFile } from '../core/bearer-token.js';
import { InferlogError } from '../core/errors.js';

export { readTokenFile };

function readable(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new InferlogError('CONFIG_INVALID', `${file}: cannot read the ${what} (${reason})`, {
      cause: err,
    });
  }
}

export function readCertificateFile(file: string): X509Certificate {
  const text = readable(file, 'certificate');
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new InferlogError(
      'CONFIG_INVALID',
      `${file}: not a PEM certificate (no "BEGIN CERTIFICATE" block)`,
    );
  try {
    return new X509Certificate(text);
  } catch (err) {
    throw new InferlogError('CONFIG_INVALID', `${file}: the certificate cannot be parsed`, { cause: err });
  }
}

export function readPrivateKeyFile(file: string): KeyObject {
  const text = readable(file, 'private key');
  try {
    return createPrivateKey(text);
  } catch {
    // The parser's message may quote the key: say only that it is not one, and keep no cause.
    throw new InferlogError(
      'CONFIG_INVALID',
      `${file}: not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)`,
    );
  }
}

/** A client certificate and its key, or neither: which setting is wrong, and why. */
export interface CredentialProblem {
  field: 'client-cert' | 'client-key';
  message: string;
}

export function clientPairProblems(
  certFile: string | undefined,
  keyFile: string | undefined,
): CredentialProblem[] {
  if (certFile === undefined && keyFile === undefined) return [];
  if (keyFile === undefined)
    return [{ field: 'client-key', message: `a client certificate (${certFile}) needs its private key too` }];
  if (certFile === undefined)
    return [{ field: 'client-cert', message: `a client key (${keyFile}) needs its certificate too` }];
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = readCertificateFile(certFile);
  } catch (e) {
    return [{ field: 'client-cert', message: (e as Error).message }];
  }
  try {
    key = readPrivateKeyFile(keyFile);
  } catch (e) {
    return [{ field: 'client-key', message: (e as Error).message }];
  }
  if (!cert.checkPrivateKey(key))
    return [
      {
        field: 'client-key',
        message: `${keyFile}: the key does not match the client certificate ${certFile} (${cert.subject.replace(/\n/g, ', ')})`,
      },
    ];
  return [];
}
