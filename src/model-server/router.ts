/**
 * URL path → route. KServe's routes are few and fixed, so matching is a handful of string
 * checks, not a regex table. A path that matches but with the wrong method is a 405;
 * one that matches nothing is a 404 (both decided in index.ts).
 */

export type RouteName =
  | 'root'
  | 'v1.models'
  | 'v1.model'
  | 'v1.predict'
  | 'v2.server'
  | 'v2.live'
  | 'v2.ready'
  | 'v2.models'
  | 'v2.model'
  | 'v2.model-ready'
  | 'v2.infer'
  | 'v2.generate'
  | 'v2.generate-stream'
  | 'openai.models'
  | 'openai.chat'
  | 'openai.completions';

export interface RouteMatch {
  readonly route: RouteName;
  readonly method: 'GET' | 'POST';
  /** The model named in the path, percent-decoded. */
  readonly model?: string;
}

const FIXED: Record<string, RouteMatch> = {
  '/': { route: 'root', method: 'GET' },
  '/v1/models': { route: 'v1.models', method: 'GET' },
  '/v2': { route: 'v2.server', method: 'GET' },
  '/v2/health/live': { route: 'v2.live', method: 'GET' },
  '/v2/health/ready': { route: 'v2.ready', method: 'GET' },
  '/v2/models': { route: 'v2.models', method: 'GET' },
  '/openai/v1/models': { route: 'openai.models', method: 'GET' },
  '/openai/v1/chat/completions': { route: 'openai.chat', method: 'POST' },
  '/openai/v1/completions': { route: 'openai.completions', method: 'POST' },
};

const V2_MODEL_ACTIONS: Record<string, { route: RouteName; method: 'GET' | 'POST' }> = {
  ready: { route: 'v2.model-ready', method: 'GET' },
  infer: { route: 'v2.infer', method: 'POST' },
  generate: { route: 'v2.generate', method: 'POST' },
  generate_stream: { route: 'v2.generate-stream', method: 'POST' },
};

function decode(segment: string): string | undefined {
  if (segment === '') return undefined;
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** `path` is the URL path without the query string. */
export function matchRoute(path: string): RouteMatch | undefined {
  const fixed = FIXED[path];
  if (fixed) return fixed;

  if (path.startsWith('/v1/models/')) {
    const rest = path.slice('/v1/models/'.length);
    if (rest.includes('/')) return undefined;
    if (rest.endsWith(':predict')) {
      const model = decode(rest.slice(0, -':predict'.length));
      return model === undefined ? undefined : { route: 'v1.predict', method: 'POST', model };
    }
    if (rest.includes(':')) return undefined; // :explain and other verbs are not served
    const model = decode(rest);
    return model === undefined ? undefined : { route: 'v1.model', method: 'GET', model };
  }

  if (path.startsWith('/v2/models/')) {
    const parts = path.slice('/v2/models/'.length).split('/');
    const model = decode(parts[0] as string);
    if (model === undefined || parts.length > 2) return undefined;
    if (parts.length === 1) return { route: 'v2.model', method: 'GET', model };
    const action = V2_MODEL_ACTIONS[parts[1] as string];
    return action ? { ...action, model } : undefined;
  }
  return undefined;
}
