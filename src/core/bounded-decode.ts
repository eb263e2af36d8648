/**
 * Content-Encoding decoding with a bound on the output: the one place inferlog inflates a body
 * it did not produce (the agent's capture of compressed bodies, replay's reading of answers).
 *
 *   bytes + "gzip" | "deflate" | "br" ──zlib with maxOutputLength = limit──▶ decoded (≤ limit bytes)
 *                                                                         └─▶ too-large | corrupt | unknown
 *
 * zlib stops as soon as the output would pass `maxOutputLength`, so a 1 MiB gzip bomb costs at
 * most `limit` bytes of memory, never the gigabytes it expands to.
 */
import zlib from 'node:zlib';

export type DecodeResult =
  { ok: true; bytes: Buffer } | { ok: false; reason: 'too-large' | 'corrupt' | 'unknown-encoding' };

/**
 * Decodes `raw` (a Content-Encoding of gzip, x-gzip, deflate or br; empty or identity = as is) into
 * at most `limit` bytes. `partial`: the input is a prefix (a truncated capture); decode as far as it goes.
 */
export function decodeBounded(
  raw: Buffer,
  encoding: string | undefined,
  limit: number,
  partial = false,
): DecodeResult {
  const opts: zlib.ZlibOptions = { maxOutputLength: limit };
  if (partial) opts.finishFlush = zlib.constants.Z_SYNC_FLUSH;
  try {
    switch ((encoding ?? '').trim().toLowerCase()) {
      case '':
      case 'identity':
        return raw.length > limit ? { ok: false, reason: 'too-large' } : { ok: true, bytes: raw };
      case 'gzip':
      case 'x-gzip':
        return { ok: true, bytes: zlib.gunzipSync(raw, opts) };
      case 'deflate':
        return { ok: true, bytes: zlib.inflateSync(raw, opts) };
      case 'br':
        return {
          ok: true,
          bytes: zlib.brotliDecompressSync(raw, {
            maxOutputLength: limit,
            ...(partial ? { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH } : {}),
          }),
        };
      default:
        return { ok: false, reason: 'unknown-encoding' };
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { ok: false, reason: code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'corrupt' };
  }
}
