import { describe, expect, it } from 'vitest';
import { decodeText, foreignCharset, mediaType } from './body-text.js';

const enc = new TextEncoder();

describe('what a body is', () => {
  it('decodes UTF-8, refuses anything else, and drops a character cut by the capture limit', () => {
    const euro = enc.encode('price 5€'); // € is 3 bytes
    expect(decodeText(euro, false)).toBe('price 5€');
    expect(decodeText(euro.subarray(0, euro.length - 1), true)).toBe('price 5');
    expect(decodeText(euro.subarray(0, euro.length - 1), false)).toBeUndefined(); // not cut: just not UTF-8
    expect(decodeText(new Uint8Array([0xff, 0xfe, 0x41]), false)).toBeUndefined();
  });

  it('reads the media type and a charset that is not UTF-8', () => {
    expect(mediaType(' Text/Event-Stream ; charset=utf-8')).toBe('text/event-stream');
    expect(mediaType(undefined)).toBe('');
    expect(foreignCharset('application/json; charset="UTF-8"')).toBeUndefined();
    expect(foreignCharset('text/plain; charset=us-ascii')).toBeUndefined();
    expect(foreignCharset('text/plain; Charset=UTF-7')).toBe('utf-7');
    expect(foreignCharset('application/json')).toBeUndefined();
  });
});
