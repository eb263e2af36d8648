/**
 * Real X.509 certificates for TLS tests, made with the `openssl` command line in a temporary
 * directory: a CA, server certificates for 127.0.0.1 and client certificates it signs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * A certificate for `cn` signed by `ca` that expired long ago (valid 2020-01-01 to 2020-01-02):
 * `openssl ca` sets the dates, which `x509 -req` cannot back-date.
 */
export function makeExpiredCert(
  dir: string,
  ca: CertFiles,
  file: string,
  cn: string,
  sans: string[],
): CertFiles {
  const key = join(dir, `${file}.key`);
  const csr = join(dir, `${file}.csr`);
  const cert = join(dir, `${file}.crt`);
  const db = join(dir, `${file}-ca`);
  mkdirSync(db, { recursive: true });
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), '01\n');
  writeFileSync(
    join(db, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = d',
      '[d]',
      `database = ${join(db, 'index.txt')}`,
      `new_certs_dir = ${db}`,
      `serial = ${join(db, 'serial')}`,
      'default_md = sha256',
      'policy = p',
      'x509_extensions = x',
      '[p]',
      'commonName = supplied',
      '[x]',
      `subjectAltName = ${sans.join(',')}`,
      '',
    ].join('\n'),
  );
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
  openssl(dir, [
    'ca',
    '-batch',
    '-config',
    join(db, 'ca.cnf'),
    '-cert',
    ca.cert,
    '-keyfile',
    ca.key,
    '-in',
    csr,
    '-out',
    cert,
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
    '-notext',
  ]);
  return { cert, key };
}
