/**
 * A captured exchange → the request to re-send (or why it cannot be re-sent).
 *
 *   ExchangeView ──method/url (inferlog agent) or --path template (KServe agent)──▶ path
 *                ──an inference route? (POST only; else skipped, unless --any-route)
 *                ──--rename-model, --path-rewrite──▶ path
 *                ──request.contentType, Inference-Header-Content-Length, --header, Ce-Id: replay-<id>──▶ headers
 *                ──request.body (utf8 | base64)──▶ the exact captured bytes
 *
 * Captured metadata headers (X-Request-Id …) are not re-sent unless `--header NAME` asks:
 * replaying someone's request id or auth token by default would confuse the target's own logs.
 *
 * The captured method and URL are data from whoever could reach the agent or the collector, and
 * replay sends them with the operator's `--header`s (often an Authorization). So by default only
 * inference routes are re-sent: an injected `DELETE /v2/repository/models/prod/unload` is skipped
 * and counted, never sent with the operator's token. `--any-route` is the explicit opt-in.
 */
import type { ExchangeView } from '../api/view.js';
import type { HeaderRule, PathRewrite } from './options.js';

export interface PlanOptions {
  path: string;
  pathRewrites: readonly PathRewrite[];
  renameModel?: string;
  headers: readonly HeaderRule[];
  replayId: boolean;
  /** Re-send captured methods and paths that are not inference routes (default false). */
  anyRoute?: boolean;
}

export interface PlannedRequest {
  method: string;
  /** Path and query, always starting with `/` (joined onto --to, never a host of its own). */
  path: string;
  headers: Record<string, string>;
}

/** `kind`: the reason without particulars, for the summary's counts; `reason`: with them. */
export type Plan = { ok: true; request: PlannedRequest } | { ok: false; kind: SkipKind; reason: string };

export type SkipKind =
  | 'captured from an earlier replay'
  | 'no request captured'
  | 'request body truncated at capture'
  | 'not an inference route (--any-route sends it)';

const MODEL_IN_PATH = /^(\/v[12]\/models\/)([^/:?]+)/;

/**
 * The routes that run a model (KServe V1 predict/explain, V2 infer (and generate), OpenAI completions
 * and chat), and nothing else: no repository, load/unload or metadata routes. A model name may not
 * contain `/`, `%` or `\`, nor be `.` or `..`, so no spelling of a path reaches another route
 * through a server that decodes or normalises it.
 */
const NAME = String.raw`(?!\.\.?(?:[/:?]|$))[^/?#%\\\s]+`;
const INFERENCE_ROUTE = new RegExp(
  '^(?:' +
    [
      String.raw`/v1/models/${NAME}:(?:predict|explain)`,
      String.raw`/v2/models/${NAME}(?:/versions/${NAME})?/(?:infer|generate|generate_stream)`,
      String.raw`/openai/v1/(?:chat/)?completions`,
    ].join('|') +
    String.raw`)(?:\?[^#]*)?$`,
);

/** True for `POST` to an inference route (the path may carry a query string). */
export function isInferenceRoute(method: string, path: string): boolean {
  return method === 'POST' && INFERENCE_ROUTE.test(path);
}

const skip = (kind: SkipKind, detail?: string): Plan => ({
  ok: false,
  kind,
  reason: detail === undefined ? kind : `${kind}: ${detail}`,
});

export function planRequest(ex: ExchangeView, opts: PlanOptions): Plan {
  // A target that logs to the same collector stores the replayed traffic with Ce-Id replay-<id>:
  // as its id where the target trusts inbound ids, else kept as metadata `Ce-Id` (the default since
  // ids became untrusted). Replaying that again would compare the candidate with itself.
  if (ex.id.startsWith('replay-') || ex.metadata['Ce-Id']?.some((v) => v.startsWith('replay-')))
    return skip('captured from an earlier replay', 'Ce-Id replay-…');
  if (ex.request === null) return skip('no request captured', 'logger mode response');
  if (ex.request.truncated) {
    return skip(
      'request body truncated at capture',
      `${ex.request.size} of ${ex.request.originalSize ?? '?'} bytes kept`,
    );
  }
  const method = (ex.method ?? 'POST').toUpperCase();
  let path: string;
  if (ex.url === null) {
    // KServe's agent records no URL: the operator's --path template says where to send it.
    path = opts.path.replaceAll('{model}', encodeURIComponent(ex.model));
  } else {
    path = ex.url;
    // A captured absolute-form URL (proxy style) must not steer the request elsewhere: keep its path only.
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
      try {
        const u = new URL(path);
        path = u.pathname + u.search;
      } catch {
        /* not a URL after all: the route check below refuses it */
      }
    }
    if (opts.anyRoute !== true && !isInferenceRoute(method, path))
      return skip('not an inference route (--any-route sends it)', `${method} ${ex.url}`);
  }
  if (opts.renameModel !== undefined) {
    path = path.replace(
      MODEL_IN_PATH,
      (_all, prefix: string) => prefix + encodeURIComponent(opts.renameModel as string),
    );
  }
  for (const r of opts.pathRewrites) {
    if (path.startsWith(r.from)) path = r.to + path.slice(r.from.length);
  }
  // After --path-rewrite too (FROM=TO may be anything): only ever a path on --to's origin.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    try {
      const u = new URL(path);
      path = u.pathname + u.search;
    } catch {
      /* sent as a path */
    }
  }
  if (!path.startsWith('/')) path = '/' + path;

  const headers: Record<string, string> = {};
  if (ex.request.contentType) headers['content-type'] = ex.request.contentType;
  // V2 binary tensors: where the JSON header ends in the body. Protocol, so always re-sent.
  const jsonLength = captured(ex, 'inference-header-content-length');
  if (jsonLength !== undefined && /^\d{1,12}$/.test(jsonLength))
    headers['inference-header-content-length'] = jsonLength;
  if (opts.replayId) headers['ce-id'] = `replay-${ex.id}`;
  for (const h of opts.headers) {
    const key = h.name.toLowerCase();
    if (h.value !== undefined) {
      headers[key] = h.value;
      continue;
    }
    const value = captured(ex, key);
    if (value !== undefined) headers[key] = value;
  }
  return { ok: true, request: { method, path, headers } };
}

/** A captured metadata header's value (any case of its name), joined; undefined when absent. */
function captured(ex: ExchangeView, lowerName: string): string | undefined {
  const values = Object.entries(ex.metadata).find(([k]) => k.toLowerCase() === lowerName)?.[1];
  return values !== undefined && values.length > 0 ? values.join(', ') : undefined;
}

/** The captured request body bytes, exactly as stored. */
export function requestBody(ex: ExchangeView): Uint8Array {
  return bodyBytes(ex.request?.body, ex.request?.bodyEncoding);
}

export function bodyBytes(body: string | undefined, encoding: 'utf8' | 'base64' | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return encoding === 'base64' ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}
