/**
 * The model a KServe V1 or V2 request names in its path (`/v1/models/NAME:predict`,
 * `/v2/models/NAME/infer`), percent-decoded; undefined for other paths and malformed escapes.
 * One parser for everyone who needs it on the request path: capture's metrics label, `inferlog up`'s
 * attribution and batcher routing, the model server's router.
 */
export function modelInPath(url: string): string | undefined {
  const m = /^\/v[12]\/models\/([^/:?]+)/.exec(url);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return undefined; // a malformed escape names no model
  }
}
