/**
 * The one rule every store applies to a key before it sends it anywhere. Keys are built by
 * inferlog, but ids inside them come from clients, so a key is data that must not become a path:
 *
 *   - no "." or ".." segment: URL clients (Azure's, and `new URL()` itself) normalise
 *     "p/ns/isvc/../../../other-ns/x" to "other-ns/x", so a client's id could write (and forge
 *     records) anywhere in the container, outside the logger's prefix. A backslash separates
 *     segments here too: Azure turns it into "/", and WHATWG URLs treat it as one;
 *   - no control characters (U+0000–U+001F, U+007F): stores take some of them, but XML listings
 *     and log lines cannot carry them, so such an object could be written and never listed.
 *
 * A refused key is SINK_REJECTED (permanent): retrying the same key cannot help.
 */
import { InferlogError } from '../../core/errors.js';

// eslint-disable-next-line no-control-regex -- control characters are exactly what this finds
const CONTROL = /[\u0000-\u001f\u007f]/;

export function checkObjectKey(key: string, where: string): void {
  const bad = CONTROL.test(key)
    ? 'has a control character'
    : key.split(/[/\\]/).some((s) => s === '.' || s === '..')
      ? 'has a "." or ".." segment (between "/" or "\\")'
      : undefined;
  if (bad !== undefined)
    throw new InferlogError(
      'SINK_REJECTED',
      `${where}: object key ${JSON.stringify(key.slice(0, 200))} ${bad}; it could name another object, so it is not written`,
    );
}
