/**
 * How `query`, `tail` and `replay` prove who they are to a collector:
 *
 *   --token-file F  (else INFERLOG_TOKEN, else inferlog login's saved token) ──▶ Authorization: Bearer <token>
 *   --ca-file F ─────────────────────────────▶ trusted CA for an https collector (replaces the system roots)
 *   --client-cert F --client-key F ──────────▶ client certificate (mutual TLS)
 *                                          └─▶ Collector { url, token, dispatcher } for api/client.ts
 *
 * The files are read and checked once, before the first request; a problem is a usage error
 * (exit 2) that names the flag and the file but never quotes a token. The token goes only in
 * the Authorization header: never in a URL, never printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { Agent } from 'undici';
import type { Collector } from '../api/client.js';
import { readTokenFile, sentInClear, tokenFromText } from '../core/bearer-token.js';
import { InferlogError } from '../core/errors.js';
import { clientPairProblems } from '../config/credential-files.js';

export interface CollectorAccessFlags {
  tokenFile?: string;
  caFile?: string;
  clientCert?: string;
  clientKey?: string;
}

export function addCollectorAccessFlags(cmd: Command): Command {
  return cmd
    .option(
      '--token-file <file>',
      'file holding a bearer token for the collector (else $INFERLOG_TOKEN, else the one `inferlog login` saved)',
    )
    .option('--ca-file <file>', 'CA certificate of an https collector with a private CA')
    .option('--client-cert <file>', 'client certificate for a collector that wants mutual TLS')
    .option('--client-key <file>', 'private key of --client-cert');
}

function usage(message: string, cause?: unknown): InferlogError {
  return new InferlogError('USAGE_INVALID', message, cause === undefined ? {} : { cause });
}

/**
 * Where `inferlog login` saves its token: `$XDG_CONFIG_HOME/inferlog/token`, else
 * `~/.config/inferlog/token` (a relative XDG_CONFIG_HOME is ignored, as the XDG spec says).
 */
export function loginTokenFile(env: NodeJS.ProcessEnv): string | undefined {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'inferlog', 'token');
  const home = env.HOME;
  if (home && path.isAbsolute(home)) return path.join(home, '.config', 'inferlog', 'token');
  return undefined;
}

/** The token: `--token-file`, else `INFERLOG_TOKEN`, else the one `inferlog login` saved, else none. */
function tokenFrom(flags: CollectorAccessFlags, env: NodeJS.ProcessEnv): string | undefined {
  let where = '';
  try {
    if (flags.tokenFile !== undefined) {
      where = '--token-file ';
      return readTokenFile(flags.tokenFile);
    }
    const fromEnv = env.INFERLOG_TOKEN;
    if (fromEnv !== undefined && fromEnv !== '') return tokenFromText(fromEnv, 'INFERLOG_TOKEN');
    const saved = loginTokenFile(env);
    if (saved !== undefined && existsSync(saved)) {
      where = 'the token `inferlog login` saved, ';
      return readTokenFile(saved);
    }
  } catch (e) {
    throw usage(`${where}${(e as Error).message}`, e);
  }
  return undefined;
}

function readPem(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw usage(`${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, e);
  }
}

export function collectorAccess(
  url: string,
  flags: CollectorAccessFlags,
  env: NodeJS.ProcessEnv = process.env,
): Collector {
  const collector: Collector = { url };
  const token = tokenFrom(flags, env);
  if (token !== undefined) {
    collector.token = token;
    if (sentInClear(url))
      process.stderr.write(
        `inferlog: warning: sending a token over plain http to ${new URL(url).host}: anyone on the path can read and reuse it; use https://\n`,
      );
  }
  const pair = clientPairProblems(flags.clientCert, flags.clientKey);
  if (pair.length > 0) {
    const p = pair[0]!;
    throw usage(`${p.field === 'log-client-cert' ? '--client-cert' : '--client-key'} ${p.message}`);
  }
  if (flags.caFile !== undefined || flags.clientCert !== undefined) {
    const ca = flags.caFile !== undefined ? readPem('--ca-file', flags.caFile) : undefined;
    if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----'))
      throw usage(`--ca-file ${flags.caFile}: not a PEM certificate (no "BEGIN CERTIFICATE" block)`);
    collector.dispatcher = new Agent({
      connect: {
        minVersion: 'TLSv1.2',
        ...(ca !== undefined ? { ca } : {}),
        ...(flags.clientCert !== undefined && flags.clientKey !== undefined
          ? {
              cert: readPem('--client-cert', flags.clientCert),
              key: readPem('--client-key', flags.clientKey),
            }
          : {}),
      },
    });
  }
  return collector;
}
