/**
 * What a captured body is, before any rule runs: its text (if it is UTF-8), its media type, and a
 * declared charset that is not UTF-8.
 *
 *   bytes ─decodeText─▶ string | undefined (not UTF-8: the body is withheld)
 *   content-type ─mediaType─▶ "text/event-stream" …      ─foreignCharset─▶ "utf-7" … | undefined
 *
 * Why apart: these answer "can the rules see this body at all?", and every "no" is a reason the
 * body is withheld whole (fail closed), so they are kept small and tested through the redactor.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, or undefined when it is not UTF-8. A truncated body may end inside a
 * multi-byte character; that partial character is dropped rather than failing the whole body.
 */
export function decodeText(bytes: Uint8Array, truncated: boolean): string | undefined {
  let end = bytes.length;
  if (truncated) {
    // Walk back over at most 3 continuation bytes to a lead byte; drop it if its sequence is incomplete.
    let k = end - 1;
    while (k >= 0 && k > end - 4 && ((bytes[k] as number) & 0xc0) === 0x80) k--;
    if (k >= 0) {
      const lead = bytes[k] as number;
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (k + need > end) end = k;
    }
  }
  try {
    return utf8.decode(end === bytes.length ? bytes : bytes.subarray(0, end));
  } catch {
    return undefined;
  }
}

export function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export const NDJSON_TYPES: ReadonlySet<string> = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

/** Charsets a body may declare and still be read as UTF-8. */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/**
 * The declared charset when it is not UTF-8 (or ASCII): such a body may mean something else to the
 * model than the UTF-8 text the scrubbers would see (UTF-7 spells `@` as `+AEA-`), so it is withheld.
 */
export function foreignCharset(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const m = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType);
  if (!m) return undefined;
  const cs = (m[1] as string).toLowerCase();
  return UTF8_CHARSETS.has(cs) ? undefined : cs;
}
