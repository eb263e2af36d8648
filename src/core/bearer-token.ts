/**
 * What a bearer-token file may hold: one RFC 6750 token, nothing that could change the request it
 * goes into. Shared by the sinks (transport/bearer-token-file.ts, re-read on change), the config
 * checks (config/credential-files.ts) and the collector clients (api/client.ts).
 *
 * Messages name the file, never quote its content: the content is a secret.
 */
import { readFileSync } from 'node:fs';
import { InferlogError } from './errors.js';

/** Big enough for any JWT a provider issues; a token file larger than this is not a token. */
export const MAX_TOKEN_BYTES = 16 * 1024;

/**
 * RFC 6750's b64token (what `Authorization: Bearer` may carry). Anything else — spaces, a second
 * line, control characters — would let a file's content change the request's headers.
 */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The token a text holds: without surrounding whitespace (a Secret written with `echo` ends in a
 * newline). Throws CONFIG_INVALID naming `where` (the file or variable), never quoting the content.
 */
export function tokenFromText(text: string, where: string): string {
  const token = text.trim();
  if (token === '') throw new InferlogError('CONFIG_INVALID', `${where}: the token is empty`);
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES)
    throw new InferlogError(
      'CONFIG_INVALID',
      `${where}: holds more than ${MAX_TOKEN_BYTES} bytes: not one bearer token`,
    );
  if (!BEARER_TOKEN.test(token))
    throw new InferlogError(
      'CONFIG_INVALID',
      `${where}: must hold one bearer token (letters, digits and - . _ ~ + / =, on one line)`,
    );
  return token;
}

/** Reads and checks a token file now. */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new InferlogError('CONFIG_INVALID', `${file}: cannot read the token file (${reason})`, {
      cause: err,
    });
  }
  return tokenFromText(text, file);
}

/**
 * True when a token sent to `url` would cross the network in clear text: an http (or otlp+http)
 * URL whose host is not this machine. Callers warn; they do not refuse, since a service mesh may
 * encrypt what the URL does not say.
 */
export function sentInClear(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'otlp+http:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\./.test(host));
}
