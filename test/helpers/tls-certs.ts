/**
 * Real X.509 certificates for TLS tests, made with the `openssl` command line in a temporary
 * directory: a CA, server certificates for 127.0.0.1 and client certificates it signs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA named `name` in `dir` (`name.crt`, `name.key`). */
export function makeCa(dir: string, name: string): CertFiles {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
  return { cert, key };
}

/**
 * A certificate for `cn` signed by `ca`, with the subjectAltNames given (e.g. `IP:127.0.0.1`),
 * written as `file.crt` / `file.key`.
 */
export function makeCert(
  dir: string,
  ca: CertFiles,
  file: string,
  cn: string,
  sans: string[] = [],
): CertFiles {
  const key = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const cert = join(dir, `${file}.crt`);
  const ext = join(dir, `${file}.ext`);
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    `/CN=${cn}`,
  ]);
  execFileSync('sh', [
    '-c',
    `printf '%s\\n' "$1" > "$2"`,
    'sh',
    sans.length > 0 ? `subjectAltName=${sans.join(',')}` : 'basicConstraints=CA:FALSE',
    ext,
  ]);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

export const pem = (file: string): string => readFileSync(file, 'utf8');
