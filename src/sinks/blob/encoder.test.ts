// KServe's marshallers as Go writes them: the expected strings below are the output of Go's own
// encoding/json, net/url and encoding/csv (the Go release KServe 0.20's agent is built with).
import { describe, expect, it } from 'vitest';
import { contractExchange } from '../sink.contract.js';
import { goPathJoin, idSegment } from './config.js';
import { goString, goUrlJson, marshalCsv, marshalJson, recordsOf } from './encoder.js';

const ctx = { logUrl: 's3://bucket/prefix', certName: 'service-ca.crt', tlsSkipVerify: false };

describe("KServe's record encodings", () => {
  it.each([
    [
      's3://bucket/prefix',
      '{"Scheme":"s3","Opaque":"","User":null,"Host":"bucket","Path":"/prefix","Fragment":"","RawQuery":"","RawPath":"","RawFragment":"","ForceQuery":false,"OmitHost":false}',
    ],
    [
      'my-pod',
      '{"Scheme":"","Opaque":"","User":null,"Host":"","Path":"my-pod","Fragment":"","RawQuery":"","RawPath":"","RawFragment":"","ForceQuery":false,"OmitHost":false}',
    ],
    [
      'abfs://c@acct.dfs.core.windows.net/p/q',
      '{"Scheme":"abfs","Opaque":"","User":{},"Host":"acct.dfs.core.windows.net","Path":"/p/q","Fragment":"","RawQuery":"","RawPath":"","RawFragment":"","ForceQuery":false,"OmitHost":false}',
    ],
    [
      's3://b/a%20b?x=1#frag',
      '{"Scheme":"s3","Opaque":"","User":null,"Host":"b","Path":"/a b","Fragment":"frag","RawQuery":"x=1","RawPath":"","RawFragment":"","ForceQuery":false,"OmitHost":false}',
    ],
    [
      'http://h/p?',
      '{"Scheme":"http","Opaque":"","User":null,"Host":"h","Path":"/p","Fragment":"","RawQuery":"","RawPath":"","RawFragment":"","ForceQuery":true,"OmitHost":false}',
    ],
    [
      'mailto:x@y',
      '{"Scheme":"mailto","Opaque":"x@y","User":null,"Host":"","Path":"","Fragment":"","RawQuery":"","RawPath":"","RawFragment":"","ForceQuery":false,"OmitHost":false}',
    ],
    [
      's3://b/a%2Fb',
      '{"Scheme":"s3","Opaque":"","User":null,"Host":"b","Path":"/a/b","Fragment":"","RawQuery":"","RawPath":"/a%2Fb","RawFragment":"","ForceQuery":false,"OmitHost":false}',
    ],
  ])('url %s as Go json.Marshal(*url.URL)', (raw, go) => {
    expect(goUrlJson(raw)).toBe(go);
  });

  it("escapes strings as Go's encoding/json", () => {
    expect(goString('<&>\u2028 \u0001 \b\f\t')).toBe('"\\u003c\\u0026\\u003e\\u2028 \\u0001 \\b\\f\\t"');
    expect(goString('a\ud800b')).toBe('"a\ufffdb"');
  });

  it("quotes CSV fields as Go's encoding/csv", () => {
    const [rec] = recordsOf(contractExchange('x', { mode: 'request' }), ctx);
    const fields = ['', ' lead', '\\.', 'a,b', 'q"q', 'x\ny', 'x\ry', '\tt', 'plain', '\u00a0nbsp'];
    const csv = fields.map((f) =>
      Buffer.from(marshalCsv([{ ...rec!, endpoint: f }]).data)
        .toString()
        .split('\n')
        .slice(1)
        .join('\n'),
    );
    // Go: ," lead","\.","a,b","q""q","x\ny","x\ry","\tt",plain," nbsp"
    const endpoints = csv.map((line) => {
      const m =
        /org\.kubeflow\.serving\.inference\.request,x,http:\/\/localhost:9081\/,iris,ns,predictor,(.*),,,service-ca\.crt,false\n?$/s.exec(
          line,
        );
      return m?.[1];
    });
    expect(endpoints).toEqual([
      '',
      '" lead"',
      '"\\."',
      '"a,b"',
      '"q""q"',
      '"x\ny"',
      '"x\ry"',
      '"\tt"',
      'plain',
      '"\u00a0nbsp"',
    ]);
  });

  it('writes one record as a JSON object and several as an array, with omitempty', () => {
    const recs = recordsOf(contractExchange('j'), ctx);
    const one = JSON.parse(Buffer.from(marshalJson(recs.slice(0, 1)).data).toString()) as Record<
      string,
      unknown
    >;
    expect(Array.isArray(one)).toBe(false);
    expect(Object.keys(one)).toEqual([
      'url',
      'bytes',
      'contentType',
      'reqType',
      'id',
      'sourceUri',
      'inferenceService',
      'namespace',
      'component',
      'certName',
      'occurrenceTime',
    ]);
    expect(one.occurrenceTime).toBe('2026-09-21T14:13:20.00025Z');
    const two = JSON.parse(Buffer.from(marshalJson(recs).data).toString()) as unknown[];
    expect(two).toHaveLength(2);
  });
});

describe("KServe's object key parts", () => {
  it("joins like Go's path.Join", () => {
    expect(goPathJoin(['a/b/', 'ns', '', 'predictor', '/store/day/'])).toBe('a/b/ns/predictor/store/day');
    expect(goPathJoin(['', 'ns', 'x/../y'])).toBe('ns/y');
    expect(goPathJoin(['', ''])).toBe('');
  });

  it('leaves UUIDs alone and percent-encodes anything that could split a key', () => {
    expect(idSegment('6840f019-17b9-42a1-89a4-ea2607ab4a74')).toBe('6840f019-17b9-42a1-89a4-ea2607ab4a74');
    expect(idSegment('../a/b')).toBe('..%2Fa%2Fb');
    expect(idSegment('%2F')).toBe('%252F');
    expect(idSegment('é\u0000')).toBe('%C3%A9%00');
  });
});
