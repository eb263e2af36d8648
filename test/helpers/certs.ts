// Throwaway certificates for TLS tests, made with the openssl CLI in a test's temp directory:
// a CA, a server certificate for 127.0.0.1 and client certificates, all signed by the CA.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  /** Paths of the PEM files. */
  cert: string;
  key: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function ossl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** `ca.crt`/`ca.key` in `dir`. */
export function makeCa(dir: string, name = 'ca'): CertFiles {
  ossl(
    dir,
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-subj',
    `/CN=inferlog test ${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/**
 * `<name>.crt`/`<name>.key` signed by `ca`: a server certificate for 127.0.0.1 (`server: true`) or a
 * client certificate whose subject is `CN=<cn>`.
 */
export function makeLeaf(
  dir: string,
  ca: CertFiles,
  name: string,
  opts: { cn: string; server?: boolean },
): CertFiles {
  ossl(dir, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${opts.cn}`);
  const ext = opts.server
    ? 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
    : 'extendedKeyUsage=clientAuth\n';
  writeFileSync(join(dir, `${name}.ext`), ext);
  ossl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

export function pem(files: CertFiles): { cert: string; key: string } {
  return { cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
}
