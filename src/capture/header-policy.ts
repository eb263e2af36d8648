/**
 * Which request headers go into `Exchange.metadata` (KServe's `metadataHeaders`).
 *
 *   req.rawHeaders ['x-request-id','7f3c…','Authorization','Bearer …', …]
 *        │  compiled policy: lower-cased name ─▶ canonical key, secrets removed unless forced
 *        ▼
 *   { 'X-Request-Id': ['7f3c…'] }          (Go-canonical keys, values in arrival order)
 *
 * KServe's agent matches the configured list exactly against Go's canonical header names
 * (`slices.Contains`), so `metadataHeaders: [x-request-id]` silently captures nothing there. We match
 * case-insensitively and still key the result by the canonical name, so the output is what KServe
 * would produce for a correctly spelt list.
 *
 * Secret headers (credentials, session cookies, API keys) are never captured, even when
 * allow-listed, unless they are also listed in `forceHeaders` (annotation
 * `inferlog.dev/capture-headers`). Header values still pass through the redactor's patterns later.
 *
 * `Inference-Header-Content-Length` is always captured: it is protocol, not metadata (V2's binary
 * tensor extension: where the JSON header ends in the body). Without it the body cannot be read
 * again, and `inferlog replay` would turn every binary-tensor 200 into a 400.
 */

export interface HeaderPolicyOptions {
  /** The allow-list, any case. */
  metadataHeaders: readonly string[];
  /** Secret headers to capture anyway; they must be in metadataHeaders too. Any case. */
  forceHeaders: readonly string[];
}

/** Returns the allow-listed headers of one request, from Node's flat `req.rawHeaders`. */
export type HeaderPolicy = (rawHeaders: readonly string[]) => Record<string, string[]>;

/** Headers that carry credentials or sessions, lower-case. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'apikey',
  'x-auth-token',
  'x-access-token',
  'x-refresh-token',
  'x-id-token',
  'x-csrf-token',
  'x-xsrf-token',
  'x-amz-security-token',
  'x-goog-api-key',
  'ocp-apim-subscription-key',
  'x-forwarded-authorization',
  'x-serverless-authorization',
  'x-vault-token',
]);

/** Any header whose name says it holds a secret: `x-openai-api-key`, `x-session-token`, `x-db-password`. */
const SECRET_NAME =
  /(?:^|-)(?:token|secret|password|passwd|api-?key|session|credentials?|signature)(?:$|-)|auth/;

/** True when a header is withheld unless forced. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.has(lower) || SECRET_NAME.test(lower);
}

const TOKEN_CHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Go's `textproto.CanonicalMIMEHeaderKey`: the first letter and each letter after a hyphen
 * upper-case, the rest lower-case (`x-request-id` → `X-Request-Id`). A name with a character that is
 * not a valid header token is returned unchanged, as Go does.
 */
export function canonicalHeaderKey(name: string): string {
  if (!TOKEN_CHAR.test(name)) return name;
  let out = '';
  let upper = true;
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/** Headers a request cannot be re-read without, captured whatever the allow-list says. */
const PROTOCOL_HEADERS = ['Inference-Header-Content-Length'];

/**
 * Compiles the policy once; the returned function is what capture calls per request.
 *
 * @example
 *   const pick = createHeaderPolicy({ metadataHeaders: ['x-request-id', 'Authorization'], forceHeaders: [] });
 *   pick(req.rawHeaders); // { 'X-Request-Id': ['7f3c…'] } — Authorization withheld
 */
export function createHeaderPolicy(options: HeaderPolicyOptions): HeaderPolicy {
  const forced = new Set(options.forceHeaders.map((h) => h.trim().toLowerCase()));
  // lower-case name → canonical key, for the headers that may be captured.
  const allowed = new Map<string, string>(PROTOCOL_HEADERS.map((h) => [h.toLowerCase(), h]));
  for (const raw of options.metadataHeaders) {
    const name = raw.trim();
    if (name === '') continue;
    const lower = name.toLowerCase();
    if (isSecretHeader(lower) && !forced.has(lower)) continue;
    allowed.set(lower, canonicalHeaderKey(name));
  }
  return (rawHeaders) => {
    const out: Record<string, string[]> = {};
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const key = allowed.get((rawHeaders[i] as string).toLowerCase());
      if (key === undefined) continue;
      const value = rawHeaders[i + 1] as string;
      const list = out[key];
      if (list) list.push(value);
      else out[key] = [value];
    }
    return out;
  };
}
