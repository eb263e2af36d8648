/**
 * Which query parameters of the request target are logged as-is (issue 16: `?api_key=sk-live-…`
 * reached every sink and the UI).
 *
 *   "/v1/models/m:predict?api_key=sk-live-1&x=1" ──policy──▶ "/v1/models/m:predict?api_key=[REDACTED]&x=1"
 *
 * Like secret headers (header-policy.ts), the values of secret parameters are withheld at capture,
 * so no output form (JSON line, record, CloudEvent `url` extension, the collector) ever holds them.
 * A name is secret when, percent-decoded and lower-cased, it is in SECRET_PARAMS or in the
 * configured `redactQueryParams`, or its last `[…]` part is (`user[password]`), unless listed in
 * `captureQueryParams`. Userinfo of an absolute-form target (`http://u:p@host/`) is withheld too.
 */

/** Parameter names that carry credentials or signatures, lower-case. */
export const SECRET_QUERY_PARAMS: readonly string[] = [
  'access_token',
  'api_key',
  'api-key',
  'apikey',
  'auth',
  'auth_token',
  'client_secret',
  'code',
  'id_token',
  'jwt',
  'key',
  'pass',
  'passwd',
  'password',
  'pwd',
  'refresh_token',
  'secret',
  'session',
  'session_id',
  'sessionid',
  'sig',
  'signature',
  'token',
  'x-amz-credential',
  'x-amz-security-token',
  'x-amz-signature',
  'x-goog-credential',
  'x-goog-signature',
];

export interface QueryPolicyOptions {
  /** More secret names, any case. */
  redactQueryParams?: readonly string[];
  /** Built-in secret names to log anyway, any case. */
  captureQueryParams?: readonly string[];
  marker: string;
}

export type QueryPolicy = (url: string) => string;

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}

/**
 * Compiles the policy once; the returned function is what capture calls per request, and is the
 * identity (one indexOf) for a url without a query or userinfo.
 *
 * @example
 *   const clean = createQueryPolicy({ marker: '[REDACTED]' });
 *   clean('/predict?token=abc&n=1'); // '/predict?token=[REDACTED]&n=1'
 */
export function createQueryPolicy(options: QueryPolicyOptions): QueryPolicy {
  const keep = new Set((options.captureQueryParams ?? []).map((n) => n.trim().toLowerCase()));
  const secret = new Set(
    [...SECRET_QUERY_PARAMS, ...(options.redactQueryParams ?? []).map((n) => n.trim().toLowerCase())].filter(
      (n) => n !== '' && !keep.has(n),
    ),
  );
  const marker = encodeURIComponent(options.marker).replace(/%5B/g, '[').replace(/%5D/g, ']');
  const isSecret = (name: string): boolean => {
    if (secret.has(name)) return true;
    const open = name.lastIndexOf('[');
    return open !== -1 && name.endsWith(']') && secret.has(name.slice(open + 1, -1));
  };

  return (url) => {
    let out = url;
    // Absolute-form target with userinfo: scheme://user:pass@host/…
    const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i.exec(out);
    if (userinfo) out = `${userinfo[1] as string}${marker}@${out.slice(userinfo[0].length)}`;
    const q = out.indexOf('?');
    if (q === -1) return out;
    const hash = out.indexOf('#', q);
    const end = hash === -1 ? out.length : hash;
    const params = out.slice(q + 1, end).split(/([&;])/);
    let changed = false;
    for (let k = 0; k < params.length; k += 2) {
      const p = params[k] as string;
      const eq = p.indexOf('=');
      const name = decodeName(eq === -1 ? p : p.slice(0, eq));
      if (eq !== -1 && isSecret(name)) {
        params[k] = `${p.slice(0, eq)}=${marker}`;
        changed = true;
      }
    }
    if (!changed && out === url) return url;
    return out.slice(0, q + 1) + params.join('') + out.slice(end);
  };
}
