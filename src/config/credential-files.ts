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

/** The annotation (without `inferlog.dev/`) a problem concerns; the agent's flag has the same name. */
export type CredentialField = 'log-token-file' | 'log-client-cert' | 'log-client-key' | 'log-ca-cert';

export interface CredentialProblem {
  field: CredentialField;
  message: string;
}

/** A client certificate and its key, or neither: which setting is wrong, and why. */
export function clientPairProblems(
  certFile: string | undefined,
  keyFile: string | undefined,
): CredentialProblem[] {
  if (certFile === undefined && keyFile === undefined) return [];
  if (keyFile === undefined)
    return [
      { field: 'log-client-key', message: `a client certificate (${certFile}) needs its private key too` },
    ];
  if (certFile === undefined)
    return [{ field: 'log-client-cert', message: `a client key (${keyFile}) needs its certificate too` }];
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = readCertificateFile(certFile);
  } catch (e) {
    return [{ field: 'log-client-cert', message: (e as Error).message }];
  }
  try {
    key = readPrivateKeyFile(keyFile);
  } catch (e) {
    return [{ field: 'log-client-key', message: (e as Error).message }];
  }
  if (!cert.checkPrivateKey(key))
    return [
      {
        field: 'log-client-key',
        message: `${keyFile}: the key does not match the client certificate ${certFile} (${cert.subject.replace(/\n/g, ', ')})`,
      },
    ];
  return [];
}

/**
 * Every problem with a sink's credential files, read now. Run where the files are: by the agent
 * and `inferlog up` at start (and `validate --serve`), not by a plain `validate` of YAML meant for
 * a cluster, where the Secrets are mounted only in the pod.
 */
export function credentialProblems(files: {
  tokenFile?: string | undefined;
  caCertFile?: string | undefined;
  clientCertFile?: string | undefined;
  clientKeyFile?: string | undefined;
}): CredentialProblem[] {
  const out: CredentialProblem[] = [];
  const check = (field: CredentialField, read: () => unknown): void => {
    try {
      read();
    } catch (e) {
      out.push({ field, message: (e as Error).message });
    }
  };
  if (files.tokenFile !== undefined) check('log-token-file', () => readTokenFile(files.tokenFile as string));
  if (files.caCertFile !== undefined)
    check('log-ca-cert', () => readCertificateFile(files.caCertFile as string));
  out.push(...clientPairProblems(files.clientCertFile, files.clientKeyFile));
  return out;
}
