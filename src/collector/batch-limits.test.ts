import { describe, expect, it } from 'vitest';
import { isBatchRequest, scanBatch } from './batch-limits.js';

const scan = (text: string, max = 100): ReturnType<typeof scanBatch> =>
  scanBatch(new TextEncoder().encode(text), max);
/** The elements' text, as the scan delimits them. */
const elements = (text: string, max = 100): string[] | string => {
  const r = scan(text, max);
  return r.kind === 'elements' ? r.ranges.map(([a, b]) => text.slice(a, b)) : r.kind;
};

describe('scanBatch', () => {
  it('finds top-level elements, not nested ones or commas and brackets in strings', () => {
    expect(elements('[]')).toEqual([]);
    expect(elements('  [ ]  ')).toEqual([]);
    expect(elements('[{}]')).toEqual(['{}']);
    expect(elements('[ {"a":[1,2,3],"b":{"c":1}} , {"s":"x,y,]}\\",z"}, 3 ]\n')).toEqual([
      '{"a":[1,2,3],"b":{"c":1}}',
      '{"s":"x,y,]}\\",z"}',
      '3',
    ]);
    const many = Array.from({ length: 57 }, (_, i) => ({ id: i, data: [i, `,${i}]\\`] }));
    const r = elements(JSON.stringify(many));
    expect(Array.isArray(r) && r.map((e) => JSON.parse(e) as unknown)).toEqual(many);
  });
  it('stops past the limit', () => {
    expect(scan(JSON.stringify(Array.from({ length: 1000 }, () => ({}))), 10)).toEqual({ kind: 'over' });
    expect(elements(JSON.stringify(Array.from({ length: 10 }, () => ({}))), 10)).toHaveLength(10);
  });
  it('leaves anything it cannot delimit to the decoder', () => {
    for (const bad of [
      '{"a":[1,2]}',
      '',
      'garbage',
      '[1,]',
      '[,1]',
      '[1,,2]',
      '[}',
      '[{"a":1]}',
      '[1] x',
      '[1, 2',
    ])
      expect(scan(bad), bad).toEqual({ kind: 'unknown' });
  });
});

describe('isBatchRequest', () => {
  it('is the batch media type without Ce-Specversion', () => {
    expect(isBatchRequest({ 'content-type': 'application/cloudevents-batch+json; charset=utf-8' })).toBe(
      true,
    );
    expect(isBatchRequest({ 'content-type': 'Application/CloudEvents-Batch+JSON' })).toBe(true);
    expect(
      isBatchRequest({ 'content-type': 'application/cloudevents-batch+json', 'ce-specversion': '1.0' }),
    ).toBe(false);
    expect(isBatchRequest({ 'content-type': 'application/json' })).toBe(false);
    expect(isBatchRequest({})).toBe(false);
  });
});
