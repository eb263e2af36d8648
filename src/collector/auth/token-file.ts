/**
 * The auth file (`--auth-file`, YAML or JSON): API tokens, client-certificate identities and the
 * OIDC section, reloaded on change so a revoked token is refused within seconds.
 *
 *   tokens:                                  # only hashes: the file is not a secret to leak
 *     - name: agent-team-a                   # the principal's id in audit lines
 *       hash: sha256:9f86d0…                 # sha256 of the token, hex
 *       scopes: [ingest]                     # ingest | read | admin
 *       namespaces: [team-a]                 # optional; absent = every namespace
 *       models: [fraud]                      # optional; absent = every model
 *   certificates:                            # with --tls-client-ca: verified client certificate → principal
 *     - subject: CN=agent-team-a             # or  san: DNS:agent.team-a.svc / URI:spiffe://…
 *       scopes: [ingest]
 *       namespaces: [team-a]
 *   oidc: {…}                                # read by auth/oidc.ts
 *
 *   Authorization: Bearer ilt_… ──sha256──▶ compare with every hash (constant time) ──▶ Principal | 401
 *
 * Why sha256 and not a slow KDF (bcrypt, scrypt, argon2): a slow hash protects *guessable*
 * secrets (passwords) from an offline search. Tokens are 256 random bits, so even with the file
 * in hand there is nothing to search: 2^256 sha256 evaluations is out of reach however fast each
 * is. A slow hash would only make every request slower, and let a sender of many bad tokens burn
 * the collector's CPU.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  constants,
  fsyncSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  writeSync,
  openSync,
  unlinkSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { InferlogError } from '../../core/errors.js';
import type { OpLogger } from '../../core/log.js';
import { openPrivateSync } from '../../core/private-files.js';
import { bearerToken, looksLikeJwt } from './chain.js';
import type { FileWatch } from './file-watch.js';
import { watchFiles } from './file-watch.js';
import type { Authenticator } from './hook.js';
import { unauthenticated } from './hook.js';
import type { Principal, Scope } from './principal.js';
import { SCOPES } from './principal.js';

/** Who an entry grants access to: the part of a Principal the file decides. */
export interface Grant {
  readonly scopes: ReadonlySet<Scope>;
  readonly namespaces?: readonly string[];
  readonly models?: readonly string[];
}

export interface TokenEntry extends Grant {
  readonly name: string;
  /** The token's sha256, 32 bytes. */
  readonly hash: Buffer;
  /** When `token create` made it (RFC 3339), for `token list`; informational. */
  readonly created?: string;
}

export interface CertificateEntry extends Grant {
  /** `CN=<common name>`: matches a certificate whose subject CN is exactly that. */
  readonly subject?: string;
  /** `DNS:<name>`, `URI:<uri>`, `IP Address:<ip>`, `email:<addr>`: matches one subjectAltName entry. */
  readonly san?: string;
}

export interface AuthFile {
  readonly tokens: readonly TokenEntry[];
  readonly certificates: readonly CertificateEntry[];
  /** The `oidc` section as written, for auth/oidc.ts to validate; undefined when absent. */
  readonly oidc?: unknown;
}

/** The prefix of every token `token create` makes: recognisable in a leak scanner, never a JWT. */
export const TOKEN_PREFIX = 'ilt_';
const HASH = /^sha256:([0-9a-f]{64})$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;
const TOP_KEYS = ['tokens', 'certificates', 'oidc'];
const GRANT_KEYS = ['scopes', 'namespaces', 'models'];

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A new token: 256 random bits, base64url, with TOKEN_PREFIX. */
export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

// ---------------------------------------------------------------- parsing

interface Problem {
  path: (string | number)[];
  message: string;
}

function positionOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): string {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `${line}:${col}`;
    }
  }
  return '1:1';
}

function stringList(value: unknown, path: (string | number)[], problems: Problem[]): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
    problems.push({ path, message: 'must be a non-empty list of names' });
    return undefined;
  }
  return value as string[];
}

function grantOf(entry: Record<string, unknown>, path: (string | number)[], problems: Problem[]): Grant {
  const scopes = new Set<Scope>();
  const raw = entry.scopes;
  if (!Array.isArray(raw) || raw.length === 0) {
    problems.push({ path: [...path, 'scopes'], message: `must be a non-empty list of ${SCOPES.join(', ')}` });
  } else {
    raw.forEach((s, i) => {
      if (typeof s === 'string' && (SCOPES as readonly string[]).includes(s)) scopes.add(s as Scope);
      else
        problems.push({
          path: [...path, 'scopes', i],
          message: `unknown scope ${JSON.stringify(s)}; use ${SCOPES.join(', ')}`,
        });
    });
  }
  const grant: { scopes: Set<Scope>; namespaces?: string[]; models?: string[] } = { scopes };
  if (entry.namespaces !== undefined)
    grant.namespaces = stringList(entry.namespaces, [...path, 'namespaces'], problems);
  if (entry.models !== undefined) grant.models = stringList(entry.models, [...path, 'models'], problems);
  return grant;
}

function unknownKeys(
  entry: Record<string, unknown>,
  known: readonly string[],
  path: (string | number)[],
): Problem[] {
  return Object.keys(entry)
    .filter((k) => !known.includes(k))
    .map((k) => ({ path: [...path, k], message: `unknown field; known: ${known.join(', ')}` }));
}

function entries(value: unknown, key: string, problems: Problem[]): Array<Record<string, unknown>> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.push({ path: [key], message: 'must be a list' });
    return [];
  }
  return value.map((e, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) {
      problems.push({ path: [key, i], message: 'must be a mapping' });
      return {};
    }
    return e as Record<string, unknown>;
  });
}

/**
 * Parses an auth file's text. Every problem is reported at once, each as `FILE:LINE:COL: path:
 * message` (CONFIG_INVALID), like the InferenceService loader's.
 */
export function parseAuthFile(text: string, file: string): AuthFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = [];
  const yamlProblems = doc.errors.map((e) => {
    const { line, col } = lines.linePos(e.pos[0]);
    return `${file}:${line}:${col}: (yaml): ${e.message.split('\n')[0] ?? e.message}`;
  });
  if (yamlProblems.length > 0)
    throw new InferlogError('CONFIG_INVALID', yamlProblems.join('\n'), {
      details: { problems: yamlProblems.length },
    });
  // An empty file is refused rather than read as "no tokens": a file caught mid-write by a
  // non-atomic editor must not revoke everyone (the old file stays in force on reload).
  if (doc.contents === null)
    throw new InferlogError(
      'CONFIG_INVALID',
      `${file}:1:1: (document): the auth file is empty; it needs tokens:, certificates: or oidc:`,
      { details: { problems: 1 } },
    );
  const value: unknown = doc.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ path: [], message: 'must be a mapping with tokens, certificates and/or oidc' });
  }
  const top = (typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {}) as Record<
    string,
    unknown
  >;
  problems.push(...unknownKeys(top, TOP_KEYS, []));

  const tokens: TokenEntry[] = [];
  const names = new Map<string, number>();
  entries(top.tokens, 'tokens', problems).forEach((e, i) => {
    const path = ['tokens', i];
    problems.push(...unknownKeys(e, ['name', 'hash', 'created', ...GRANT_KEYS], path));
    const name = e.name;
    if (typeof name !== 'string' || !NAME.test(name))
      problems.push({
        path: [...path, 'name'],
        message:
          'must be a name of letters, digits and . _ @ : - (up to 128), starting with a letter or digit',
      });
    else if (names.has(name))
      problems.push({
        path: [...path, 'name'],
        message: `"${name}" is also the name of tokens[${names.get(name)}]`,
      });
    else names.set(name, i);
    const hash = typeof e.hash === 'string' ? HASH.exec(e.hash) : null;
    if (!hash)
      problems.push({
        path: [...path, 'hash'],
        message: 'must be "sha256:" and 64 lowercase hex digits (the file stores hashes, never tokens)',
      });
    if (e.created !== undefined && typeof e.created !== 'string')
      problems.push({ path: [...path, 'created'], message: 'must be a string (RFC 3339 time)' });
    const grant = grantOf(e, path, problems);
    if (typeof name === 'string' && hash)
      tokens.push({
        name,
        hash: Buffer.from(hash[1]!, 'hex'),
        ...grant,
        ...(typeof e.created === 'string' ? { created: e.created } : {}),
      });
  });

  const certificates: CertificateEntry[] = [];
  entries(top.certificates, 'certificates', problems).forEach((e, i) => {
    const path = ['certificates', i];
    problems.push(...unknownKeys(e, ['subject', 'san', ...GRANT_KEYS], path));
    const { subject, san } = e;
    if ((subject === undefined) === (san === undefined))
      problems.push({ path, message: 'needs exactly one of subject (CN=name) or san (DNS:name, URI:uri)' });
    if (subject !== undefined && (typeof subject !== 'string' || !/^CN=.+$/.test(subject)))
      problems.push({ path: [...path, 'subject'], message: 'must be "CN=<common name>"' });
    if (san !== undefined && (typeof san !== 'string' || !/^(DNS|URI|IP Address|email):.+$/.test(san)))
      problems.push({
        path: [...path, 'san'],
        message: 'must be "DNS:<name>", "URI:<uri>", "IP Address:<ip>" or "email:<address>"',
      });
    const grant = grantOf(e, path, problems);
    certificates.push({
      ...grant,
      ...(typeof subject === 'string' ? { subject } : {}),
      ...(typeof san === 'string' ? { san } : {}),
    });
  });

  if (problems.length > 0) {
    const message = problems
      .map(
        (p) => `${file}:${positionOf(doc, lines, p.path)}: ${p.path.join('.') || '(document)'}: ${p.message}`,
      )
      .join('\n');
    throw new InferlogError('CONFIG_INVALID', message, { details: { problems: problems.length } });
  }
  return { tokens, certificates, ...(top.oidc !== undefined ? { oidc: top.oidc } : {}) };
}

/**
 * Whoever can write the auth file can grant themselves admin: a file group or others may write is
 * refused (at start, and on reload, where the previous version stays in force).
 */
function assertNotShared(file: string): void {
  const mode = statSync(file).mode;
  if ((mode & 0o022) !== 0)
    throw new InferlogError(
      'CONFIG_INVALID',
      `${file}: the auth file has mode 0${(mode & 0o777).toString(8)}: group or others can write to it, and ` +
        `so grant themselves any scope; run \`chmod 600 ${file}\``,
    );
  // Whoever may write its directory may replace the file with one of their own (rename over it),
  // unless the sticky bit keeps them to their own entries (/tmp; a Kubernetes Secret volume is
  // 1777 and its files are root's). Both the directory named and the one it resolves to count.
  for (const dir of new Set([dirname(file), dirname(realpathSync(file))])) {
    const d = statSync(dir).mode;
    if ((d & 0o022) !== 0 && (d & 0o1000) === 0)
      throw new InferlogError(
        'CONFIG_INVALID',
        `${file}: its directory ${dir} has mode 0${(d & 0o777).toString(8)}: group or others can replace ` +
          `the auth file there, and so grant themselves any scope; run \`chmod go-w ${dir}\` or move the file`,
      );
  }
}

/** Reads and parses the auth file at start-up; a missing or bad file is CONFIG_INVALID. */
export function readAuthFile(file: string): { text: Buffer; auth: AuthFile } {
  let text: Buffer;
  try {
    text = readFileSync(file);
  } catch (err) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `${file}: cannot read the auth file (${(err as NodeJS.ErrnoException).code ?? String(err)}); ` +
        'create one with `inferlog token create --auth-file FILE --name NAME --scope SCOPE`',
      { cause: err },
    );
  }
  assertNotShared(file);
  return { text, auth: parseAuthFile(text.toString('utf8'), file) };
}

// ---------------------------------------------------------------- in force, reloaded

export interface AuthFileSource {
  current(): AuthFile;
  /** Reads the file now and applies it if it changed. */
  check(): Promise<void>;
  close(): void;
}

/** The auth file in force: read now, reloaded on change; a bad new version is logged and ignored. */
export function watchAuthFile(file: string, log: OpLogger, intervalMs?: number): AuthFileSource {
  const first = readAuthFile(file);
  let current = first.auth;
  const watch: FileWatch = watchFiles(
    [file],
    [first.text],
    ([text]) => {
      const next = parseAuthFile(text!.toString('utf8'), file);
      assertNotShared(file);
      current = next;
    },
    { what: `auth file ${file}`, log, ...(intervalMs !== undefined ? { intervalMs } : {}) },
  );
  return { current: () => current, check: () => watch.check(), close: () => watch.close() };
}

// ---------------------------------------------------------------- the token authenticator

export function principalOf(id: string, via: Principal['via'], grant: Grant): Principal {
  return Object.freeze({
    id,
    via,
    scopes: grant.scopes,
    ...(grant.namespaces ? { namespaces: grant.namespaces } : {}),
    ...(grant.models ? { models: grant.models } : {}),
  });
}

/**
 * `Authorization: Bearer <token>` against the auth file's hashes. A JWT-shaped credential is not
 * its kind (auth/oidc.ts checks those); any other bearer credential that matches no hash is 401.
 */
export function tokenAuthenticator(source: Pick<AuthFileSource, 'current'>): Authenticator {
  return {
    async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
      const token = bearerToken(req);
      if (token === undefined || looksLikeJwt(token)) return undefined;
      const hash = hashToken(token);
      let found: TokenEntry | undefined;
      // Every entry is compared, in constant time, so the answer's timing says nothing about
      // how close a guess came to any stored hash.
      for (const entry of source.current().tokens) {
        if (timingSafeEqual(entry.hash, hash)) found ??= entry;
      }
      if (found === undefined)
        throw unauthenticated('the bearer token is not valid (unknown, mistyped or revoked)');
      return principalOf(found.name, 'token', found);
    },
  };
}

// ---------------------------------------------------------------- editing (inferlog token)

function editableDocument(file: string): { doc: Document; json: boolean; exists: boolean } {
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw readAuthFileError(file, err);
  }
  if (text === undefined) {
    const doc = parseDocument('tokens: []\n');
    doc.commentBefore =
      ' inferlog auth file (collect --auth-file): API tokens are stored as sha256 hashes only.\n' +
      ' Edit with `inferlog token create|list|revoke`; the collector reloads it within seconds.';
    return { doc, json: file.endsWith('.json'), exists: false };
  }
  parseAuthFile(text, file); // refuse to edit a file the collector would refuse
  return { doc: parseDocument(text), json: text.trimStart().startsWith('{'), exists: true };
}

function readAuthFileError(file: string, err: unknown): InferlogError {
  return new InferlogError(
    'CONFIG_INVALID',
    `${file}: cannot read the auth file (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    { cause: err },
  );
}

/**
 * Replaces `file` with `text` atomically: a private temporary file beside it (0600, created
 * exclusively, never through a symlink), fsynced, renamed over the old one. A collector reading
 * the file sees the old or the new version, never half of one.
 */
export function writeFileAtomically(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openPrivateSync(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(tmp);
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
  try {
    const dirFd = openSync(dirname(file), constants.O_RDONLY);
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some filesystems cannot fsync a directory; the rename itself is still atomic.
  }
}

function save(file: string, doc: Document, json: boolean): void {
  const text = json ? JSON.stringify(doc.toJS(), null, 2) + '\n' : doc.toString();
  parseAuthFile(text, file); // never write a file the collector would refuse
  writeFileAtomically(file, text);
}

export interface NewTokenRequest {
  name: string;
  scopes: readonly Scope[];
  namespaces?: readonly string[];
  models?: readonly string[];
}

/** Adds a token to the auth file (created 0600 when missing) and returns it: the only time it is seen. */
export function createTokenIn(file: string, request: NewTokenRequest, now = new Date()): string {
  const { doc, json } = editableDocument(file);
  const existing = (doc.toJS() as { tokens?: Array<{ name?: unknown }> } | null)?.tokens ?? [];
  if (existing.some((t) => t.name === request.name))
    throw new InferlogError(
      'USAGE_INVALID',
      `${file} already has a token named "${request.name}": revoke it first (inferlog token revoke --name ${request.name}) or pick another name`,
    );
  const token = newToken();
  const entry: Record<string, unknown> = {
    name: request.name,
    hash: `sha256:${hashToken(token).toString('hex')}`,
    scopes: [...request.scopes],
    ...(request.namespaces && request.namespaces.length > 0 ? { namespaces: [...request.namespaces] } : {}),
    ...(request.models && request.models.length > 0 ? { models: [...request.models] } : {}),
    created: now.toISOString(),
  };
  const node = doc.createNode(entry);
  const seq = doc.get('tokens', true);
  if (isSeq(seq)) {
    seq.flow = false;
    seq.add(node);
  } else if (isMap(doc.contents) || doc.contents === null) doc.set('tokens', doc.createNode([entry]));
  save(file, doc, json);
  return token;
}

/** Removes the token named `name`; false when there is none. */
export function revokeTokenIn(file: string, name: string): boolean {
  const { doc, json, exists } = editableDocument(file);
  if (!exists) return false;
  const seq = doc.get('tokens', true);
  if (!isSeq(seq)) return false;
  const index = seq.items.findIndex((item) => isMap(item) && item.get('name') === name);
  if (index < 0) return false;
  seq.delete(index);
  save(file, doc, json);
  return true;
}

/** The tokens of an auth file, for `token list` (names and grants; there is nothing secret in it). */
export function listTokensIn(file: string): readonly TokenEntry[] {
  return readAuthFile(file).auth.tokens;
}
