/**
 * One-dimensional PostgreSQL arrays in the binary wire format, for `unnest($1::text[], …)` writes.
 *
 *   values ──▶ [ndim=1][has nulls][element oid][length][lower bound=1] ([byte length | -1 for NULL][bytes])…
 *
 * node-postgres sends a Buffer parameter in binary and PostgreSQL reads it with array_recv, so
 * a text element is its UTF-8 bytes as they are: no text-array literal to quote and escape (that
 * escaping was most of the JS cost of writing a batch as arrays). Buffer's UTF-8 encoding replaces
 * a lone surrogate with U+FFFD, as node-postgres does for a string parameter. PostgreSQL text cannot
 * hold U+0000 and refuses the whole statement for one: a client's NUL (a model name, an error code,
 * body text in search_text) failed every other client's halves in the same group commit, so a NUL
 * becomes U+FFFD here, as a lone surrogate does.
 */

export type PgElementType = 'text' | 'int2' | 'int4' | 'int8' | 'float8' | 'bool';

const OID: Record<PgElementType, number> = { bool: 16, int8: 20, int2: 21, int4: 23, text: 25, float8: 701 };
const WIDTH: Record<Exclude<PgElementType, 'text'>, number> = {
  bool: 1,
  int2: 2,
  int4: 4,
  int8: 8,
  float8: 8,
};
const HEADER = 20;

/** Text PostgreSQL can store: U+0000 as U+FFFD (see above). */
export function pgText(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\ufffd') : s;
}

/** The array as a binary parameter: pass it for a `$n::<type>[]` placeholder. */
export function pgBinaryArray(type: PgElementType, values: readonly unknown[]): Buffer {
  let size = HEADER;
  let nulls = 0;
  const texts = type === 'text' ? new Array<string>(values.length) : undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    size += 4;
    if (v === null || v === undefined) {
      nulls = 1;
      continue;
    }
    if (texts) {
      const s = pgText(String(v));
      texts[i] = s;
      size += Buffer.byteLength(s, 'utf8');
    } else size += WIDTH[type as Exclude<PgElementType, 'text'>];
  }
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0);
  out.writeInt32BE(nulls, 4);
  out.writeInt32BE(OID[type], 8);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16);
  let at = HEADER;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      at = out.writeInt32BE(-1, at);
      continue;
    }
    switch (type) {
      case 'text': {
        const n = out.write(texts![i]!, at + 4, 'utf8');
        out.writeInt32BE(n, at);
        at += 4 + n;
        break;
      }
      case 'bool':
        at = out.writeInt32BE(1, at);
        at = out.writeUInt8(v ? 1 : 0, at);
        break;
      case 'int2':
        at = out.writeInt32BE(2, at);
        at = out.writeInt16BE(v as number, at);
        break;
      case 'int4':
        at = out.writeInt32BE(4, at);
        at = out.writeInt32BE(v as number, at);
        break;
      case 'int8':
        at = out.writeInt32BE(8, at);
        at = out.writeBigInt64BE(BigInt(v as number), at);
        break;
      case 'float8':
        at = out.writeInt32BE(8, at);
        at = out.writeDoubleBE(v as number, at);
        break;
    }
  }
  return out;
}
