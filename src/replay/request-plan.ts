/**
 * A captured exchange → the request to re-send (or why it cannot be re-sent).
 *
 *   ExchangeView ──method/url (inferlog agent) or --path template (KServe agent)──▶ path
 *                ──--rename-model, --path-rewrite──▶ path
 *                ──request.contentType, --header, Ce-Id: replay-<id>──▶ headers
 *                ──request.body (utf8 | base64)──▶ the exact captured bytes
 *
 * Captured metadata headers (X-Request-Id …) are not re-sent unless `--header NAME` asks:
 * replaying someone's request id or auth token by default would confuse the target's own logs.
 */
import type { ExchangeView } from '../api/view.js';
import type { HeaderRule, PathRewrite } from './options.js';

export interface PlanOptions {
  path: string;
  pathRewrites: readonly PathRewrite[];
  renameModel?: string;
  headers: readonly HeaderRule[];
  replayId: boolean;
}

export interface PlannedRequest {
  method: string;
  /** Path and query, always starting with `/` (joined onto --to, never a host of its own). */
  path: string;
  headers: Record<string, string>;
}

export type Plan = { ok: true; request: PlannedRequest } | { ok: false; reason: string };

const MODEL_IN_PATH = /^(\/v[12]\/models\/)([^/:?]+)/;

export function planRequest(ex: ExchangeView, opts: PlanOptions): Plan {
  // A target that logs to the same collector stores the replayed traffic under Ce-Id replay-<id>;
  // replaying that again would compare the candidate with itself.
  if (ex.id.startsWith('replay-'))
    return { ok: false, reason: 'captured from an earlier replay (id replay-…)' };
  if (ex.request === null) return { ok: false, reason: 'no request captured (logger mode response)' };
  if (ex.request.truncated) {
    return {
      ok: false,
      reason: `request body was truncated at capture (${ex.request.size} of ${ex.request.originalSize ?? '?'} bytes kept)`,
    };
  }
  const method = (ex.method ?? 'POST').toUpperCase();
  let path = ex.url ?? opts.path.replaceAll('{model}', encodeURIComponent(ex.model));
  if (opts.renameModel !== undefined) {
    path = path.replace(
      MODEL_IN_PATH,
      (_all, prefix: string) => prefix + encodeURIComponent(opts.renameModel as string),
    );
  }
  for (const r of opts.pathRewrites) {
    if (path.startsWith(r.from)) path = r.to + path.slice(r.from.length);
  }
  // A captured absolute-form URL (proxy style) must not steer the request elsewhere: keep its path only.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    const u = new URL(path);
    path = u.pathname + u.search;
  }
  if (!path.startsWith('/')) path = '/' + path;

  const headers: Record<string, string> = {};
  if (ex.request.contentType) headers['content-type'] = ex.request.contentType;
  if (opts.replayId) headers['ce-id'] = `replay-${ex.id}`;
  for (const h of opts.headers) {
    const key = h.name.toLowerCase();
    if (h.value !== undefined) {
      headers[key] = h.value;
      continue;
    }
    const captured = Object.entries(ex.metadata).find(([k]) => k.toLowerCase() === key)?.[1];
    if (captured !== undefined && captured.length > 0) headers[key] = captured.join(', ');
  }
  return { ok: true, request: { method, path, headers } };
}

/** The captured request body bytes, exactly as stored. */
export function requestBody(ex: ExchangeView): Uint8Array {
  return bodyBytes(ex.request?.body, ex.request?.bodyEncoding);
}

export function bodyBytes(body: string | undefined, encoding: 'utf8' | 'base64' | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return encoding === 'base64' ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}
