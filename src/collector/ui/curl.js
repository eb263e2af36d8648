// @ts-check
/**
 * Copy as curl: the captured request as a shell command that sends the same method, URL,
 * content type, allow-listed headers and body bytes. Header values are copied as stored, so a
 * header the logger withheld or redacted stays withheld in the command too.
 *
 *   exchange { method, url, metadata, request { contentType, body, bodyEncoding } } ──▶ curl …
 */

/** Headers curl computes itself; copying them would be wrong once the body or host differ. */
const SKIP = new Set(['content-length', 'host', 'transfer-encoding', 'connection', 'content-type']);

/** POSIX shell single-quoting: nothing inside is interpreted. @param {string} s */
export function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * @param {any} ex  the API's exchange with bodies
 * @param {string} fallbackBase  origin to use when the stored URL is only a path
 * @returns {string}
 */
export function toCurl(ex, fallbackBase) {
  const req = ex.request;
  const method = typeof ex.method === 'string' && ex.method ? ex.method.toUpperCase() : req ? 'POST' : 'GET';
  let url = typeof ex.url === 'string' && ex.url ? ex.url : '/';
  try {
    url = new URL(url, fallbackBase).toString();
  } catch {
    // keep it as stored
  }
  const parts = ['curl', '-sS', '-X', method, shellQuote(url)];
  if (req?.contentType) parts.push('-H', shellQuote(`Content-Type: ${req.contentType}`));
  for (const [name, values] of Object.entries(ex.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (SKIP.has(name.toLowerCase())) continue;
    for (const v of Array.isArray(values) ? values : [values])
      parts.push('-H', shellQuote(`${name}: ${String(v)}`));
  }
  const body = typeof req?.body === 'string' ? req.body : '';
  if (body !== '' && req?.bodyEncoding === 'base64')
    return `printf %s ${shellQuote(body)} | base64 -d | ${parts.join(' ')} --data-binary @-`;
  if (body !== '') parts.push('--data-binary', shellQuote(body));
  return parts.join(' ');
}
