import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCloudEvents } from './cloudevents-decode.js';
import { InferlogError, isInferlogError } from '../core/errors.js';

const enc = new TextEncoder();

/** The request event of wire-examples.txt, header names as Node gives them (lower case). */
const kserveRequest = {
  host: 'message-dumper.default.svc.cluster.local',
  'user-agent': 'Go-http-client/1.1',
  'content-length': '59',
  'ce-annotations': '{"team.example.com/owner":"ml-platform"}',
  'ce-component': 'predictor',
  'ce-endpoint': '',
  'ce-id': '0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
  'ce-inferenceservicename': 'sklearn-iris',
  'ce-metadata': '{"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
  'ce-namespace': 'default',
  'ce-recordedtime': '2026-08-21T10:15:30.004210877Z',
  'ce-source': 'http://localhost:9081/',
  'ce-specversion': '1.0',
  'ce-time': '2026-08-21T10:15:30.001873512Z',
  'ce-type': 'org.kubeflow.serving.inference.request',
  'content-type': 'application/json',
  'accept-encoding': 'gzip',
};
const kserveBody = '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}';

/** The EVENT_INVALID error, with its details (`reason`) beside status and message. */
function decodeError(
  headers: Record<string, string>,
  body: string | Uint8Array,
): { status: number | undefined; message: string; reason: unknown } {
  try {
    decodeCloudEvents(headers, typeof body === 'string' ? enc.encode(body) : body);
  } catch (err) {
    if (isInferlogError(err, 'EVENT_INVALID'))
      return { status: err.status, message: err.message, reason: err.details.reason };
    throw err;
  }
  throw new Error('expected a decode error');
}

describe('decodeCloudEvents: binary mode', () => {
  it('decodes the KServe request event exactly', () => {
    const [ev] = decodeCloudEvents(kserveRequest, enc.encode(kserveBody));
    expect(ev).toEqual({
      specversion: '1.0',
      id: '0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
      type: 'org.kubeflow.serving.inference.request',
      source: 'http://localhost:9081/',
      time: '2026-08-21T10:15:30.001873512Z',
      datacontenttype: 'application/json',
      extensions: {
        component: 'predictor',
        endpoint: '',
        inferenceservicename: 'sklearn-iris',
        namespace: 'default',
        recordedtime: '2026-08-21T10:15:30.004210877Z',
      },
      metadata: { 'X-Request-Id': ['7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40'] },
      annotations: { 'team.example.com/owner': 'ml-platform' },
      data: enc.encode(kserveBody),
    });
  });

  it('accepts HTTP/1.1 header casing, binary bodies, no body and metadata "null"', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255]);
    const [ev] = decodeCloudEvents(
      {
        'Ce-Id': 'x',
        'Ce-Type': 't.request',
        'Ce-Source': 's',
        'Ce-Specversion': '1.0',
        'Content-Type': 'application/octet-stream',
        'Ce-Metadata': 'null',
      },
      png,
    );
    expect(ev!.data).toEqual(png);
    expect(ev!.metadata).toEqual({});
    expect(ev!.datacontenttype).toBe('application/octet-stream');
    const [none] = decodeCloudEvents(
      { 'ce-id': 'x', 'ce-type': 't', 'ce-source': 's', 'ce-specversion': '1.0' },
      new Uint8Array(0),
    );
    expect(none!.data.byteLength).toBe(0);
    expect(none!.datacontenttype).toBeUndefined();
  });

  it('rejects missing attributes, bad metadata and bad times with a reason', () => {
    const { 'ce-id': _id, ...noId } = kserveRequest;
    expect(decodeError(noId, kserveBody)).toMatchObject({
      status: 400,
      reason: 'missing_attribute',
      message: expect.stringContaining('"id"'),
    });
    expect(decodeError({ ...kserveRequest, 'ce-metadata': '{"X":"not-an-array"}' }, '')).toMatchObject({
      status: 400,
      reason: 'bad_metadata',
    });
    expect(decodeError({ ...kserveRequest, 'ce-metadata': '{oops' }, '')).toMatchObject({
      status: 400,
      reason: 'bad_metadata',
    });
    expect(decodeError({ ...kserveRequest, 'ce-time': 'yesterday' }, '')).toMatchObject({
      status: 400,
      reason: 'bad_time',
    });
    expect(decodeError({ ...kserveRequest, 'ce-specversion': '9.9' }, '')).toMatchObject({
      status: 400,
      reason: 'bad_specversion',
    });
    expect(decodeError({ 'content-type': 'application/json' }, '{}')).toMatchObject({
      status: 400,
      reason: 'missing_attribute',
    });
  });

  it('refuses an indexed attribute longer than a store can index (a ~3 KB model name broke PostgreSQL with a 503)', () => {
    const long = 'm'.repeat(3000);
    expect(decodeError({ ...kserveRequest, 'ce-inferenceservicename': long }, '')).toMatchObject({
      status: 400,
      reason: 'attribute_too_long',
      message: 'attribute "inferenceservicename" is 3000 bytes; the collector takes at most 512',
    });
    expect(decodeError({ ...kserveRequest, 'ce-id': 'i'.repeat(1025) }, '')).toMatchObject({
      reason: 'attribute_too_long',
    });
    // Bytes, not characters: 171 three-byte characters are 513 bytes.
    expect(decodeError({ ...kserveRequest, 'ce-namespace': '€'.repeat(171) }, '')).toMatchObject({
      reason: 'attribute_too_long',
    });
    // At the limit is fine.
    const [ev] = decodeCloudEvents(
      { ...kserveRequest, 'ce-namespace': 'n'.repeat(512), 'ce-id': 'i'.repeat(1024) },
      enc.encode(''),
    );
    expect(ev!.extensions.namespace).toHaveLength(512);
  });
});

describe('decodeCloudEvents: structured and batched', () => {
  const structured = {
    specversion: '1.0',
    id: 'e1',
    type: 'org.kubeflow.serving.inference.response',
    source: 'pod-1',
    time: '2026-08-21T10:15:30Z',
    datacontenttype: 'application/json',
    inferenceservicename: 'iris',
    statuscode: 503,
    metadata: { 'X-Request-Id': ['r1'] },
    data: { predictions: [1] },
  };

  it('decodes JSON data, text data and data_base64', () => {
    const [ev] = decodeCloudEvents(
      { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      enc.encode(JSON.stringify(structured)),
    );
    expect(ev).toMatchObject({
      id: 'e1',
      source: 'pod-1',
      extensions: { inferenceservicename: 'iris', statuscode: '503' },
      metadata: { 'X-Request-Id': ['r1'] },
    });
    expect(new TextDecoder().decode(ev!.data)).toBe('{"predictions":[1]}');
    const [text] = decodeCloudEvents(
      { 'content-type': 'application/cloudevents+json' },
      enc.encode(JSON.stringify({ ...structured, datacontenttype: 'text/plain', data: 'hi there' })),
    );
    expect(new TextDecoder().decode(text!.data)).toBe('hi there');
    const [bin] = decodeCloudEvents(
      { 'content-type': 'application/cloudevents+json' },
      enc.encode(JSON.stringify({ ...structured, data: undefined, data_base64: 'iVBORw0=' })),
    );
    expect(Buffer.from(bin!.data).toString('base64')).toBe('iVBORw0=');
  });

  it('decodes a batch and names the bad element', () => {
    const evs = decodeCloudEvents(
      { 'content-type': 'application/cloudevents-batch+json' },
      enc.encode(JSON.stringify([structured, { ...structured, id: 'e2' }])),
    );
    expect(evs.map((e) => e.id)).toEqual(['e1', 'e2']);
    expect(
      decodeError(
        { 'content-type': 'application/cloudevents-batch+json' },
        JSON.stringify([structured, { ...structured, type: undefined }]),
      ),
    ).toMatchObject({
      status: 400,
      message: expect.stringContaining('batch[1]'),
    });
    expect(decodeError({ 'content-type': 'application/cloudevents-batch+json' }, '{}')).toMatchObject({
      status: 400,
    });
  });

  it('answers 415 for structured formats it cannot read, 400 for bad JSON', () => {
    expect(decodeError({ 'content-type': 'application/cloudevents+avro' }, 'x')).toMatchObject({
      status: 415,
      reason: 'unsupported_format',
    });
    expect(decodeError({ 'content-type': 'application/cloudevents+json' }, '{"id":')).toMatchObject({
      status: 400,
      reason: 'bad_json',
    });
    expect(
      decodeError({ 'content-type': 'application/cloudevents+json' }, new Uint8Array([0xff, 0xfe])),
    ).toMatchObject({ status: 400, reason: 'bad_json' });
  });
});

describe('decodeCloudEvents: Ce-Specversion means binary mode (issue 16, items 1 and 5)', () => {
  // A client's body and Content-Type travel as the event's data: they must never become the envelope.
  const forgedBatch = JSON.stringify([
    {
      specversion: '1.0',
      id: 'forged-A',
      type: 'org.kubeflow.serving.inference.request',
      source: 'x',
      namespace: 'prod',
      inferenceservicename: 'fraud-detector',
      data: { instances: [1] },
    },
  ]);

  it.each([
    'application/cloudevents-batch+json',
    'application/cloudevents+json',
    'application/cloudevents+xml',
    'Application/CloudEvents-Batch+JSON; charset=utf-8',
  ])('decodes a request with Ce-Specversion and Content-Type %s as one binary event', (ct) => {
    const evs = decodeCloudEvents({ ...kserveRequest, 'content-type': ct }, enc.encode(forgedBatch));
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({
      id: '0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
      datacontenttype: ct,
      extensions: { namespace: 'default', inferenceservicename: 'sklearn-iris' },
    });
    expect(new TextDecoder().decode(evs[0]!.data)).toBe(forgedBatch);
  });
});

describe('decodeCloudEvents: never throws anything but an EVENT_INVALID InferlogError', () => {
  const headerName = fc.oneof(
    fc.constantFrom(
      'content-type',
      'ce-id',
      'ce-type',
      'ce-source',
      'ce-specversion',
      'ce-time',
      'ce-metadata',
      'ce-annotations',
      'ce-statuscode',
      '__proto__',
      'constructor',
    ),
    fc.string({ maxLength: 12 }),
  );
  const headerValue = fc.oneof(
    fc.constantFrom(
      '1.0',
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
      'application/cloudevents+xml',
      'null',
      '{}',
      '[]',
      '{"a":[1]}',
      '2026-08-21T10:15:30Z',
      '',
    ),
    fc.string({ maxLength: 40 }),
    fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
  );
  const jsonish = fc.oneof(
    fc.json().map((s) => enc.encode(s)),
    fc
      .tuple(
        fc.record(
          {
            specversion: fc.constantFrom('1.0', 1, null),
            id: fc.oneof(fc.string(), fc.integer()),
            type: fc.string(),
            source: fc.string(),
            data: fc.jsonValue(),
            data_base64: fc.oneof(fc.string(), fc.integer()),
            metadata: fc.jsonValue(),
            time: fc.string(),
          },
          { requiredKeys: [] },
        ),
        fc.boolean(),
      )
      .map(([o, asBatch]) => enc.encode(JSON.stringify(asBatch ? [o] : o))),
    fc.uint8Array({ maxLength: 64 }),
  );

  it('holds for arbitrary headers and bodies', () => {
    fc.assert(
      fc.property(fc.dictionary(headerName, headerValue, { maxKeys: 8 }), jsonish, (headers, body) => {
        try {
          const events = decodeCloudEvents(headers, body);
          for (const ev of events) {
            expect(typeof ev.id).toBe('string');
            expect(ev.id).not.toBe('');
            expect(ev.data).toBeInstanceOf(Uint8Array);
          }
        } catch (err) {
          expect(err).toBeInstanceOf(InferlogError);
          expect((err as InferlogError).code).toBe('EVENT_INVALID');
          expect([400, 415]).toContain((err as InferlogError).status);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
