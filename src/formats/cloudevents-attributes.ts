/**
 * KServe's inference-logger CloudEvents vocabulary (docs/http-sink.md lists every attribute).
 * One place for the names, so the encoder (sinks) and the decoder (collector) cannot drift.
 */
export const CE_SPEC_VERSION = '1.0';
export const CE_TYPE_REQUEST = 'org.kubeflow.serving.inference.request';
export const CE_TYPE_RESPONSE = 'org.kubeflow.serving.inference.response';
export const DEFAULT_SOURCE_URI = 'http://localhost:9081/';

/** Binary-mode HTTP header names exactly as KServe's Go agent writes them. */
export const CE_HEADERS = {
  specversion: 'Ce-Specversion',
  id: 'Ce-Id',
  type: 'Ce-Type',
  source: 'Ce-Source',
  time: 'Ce-Time',
  recordedtime: 'Ce-Recordedtime',
  inferenceservicename: 'Ce-Inferenceservicename',
  namespace: 'Ce-Namespace',
  component: 'Ce-Component',
  endpoint: 'Ce-Endpoint',
  metadata: 'Ce-Metadata',
  annotations: 'Ce-Annotations',
} as const;

/**
 * inferlog's extension attributes. KServe consumers ignore unknown extensions.
 * `statuscode` is the name KServe's own open proposal uses.
 */
export const CE_EXTENSIONS = {
  statuscode: 'statuscode',
  sampleweight: 'sampleweight',
  latencyms: 'latencyms',
  truncated: 'truncated',
  originalsize: 'originalsize',
  sha256: 'sha256',
  errorcode: 'errorcode',
  method: 'method',
  url: 'url',
  /** Set when the body bytes are still Content-Encoded (e.g. gzip: decoding failed or hit the cap): the encoding. */
  contentencoding: 'contentencoding',
  /**
   * Streamed responses: JSON `{"chunks","ttfbMs","ttlbMs","partial","reason"?,"usage"?,
   * "assembledText"?,"assembledTextTruncated"?}` on the response event, ASCII only. The assembled
   * text (as redacted) is cut at STREAMINFO_TEXT_MAX so the header stays small; the body has it all.
   */
  streaminfo: 'streaminfo',
  /** The response's own Content-Type: KServe reuses the request's for the response event. */
  responsecontenttype: 'responsecontenttype',
  /**
   * The client's Content-Type when it named a CloudEvents format (`application/cloudevents…`): the
   * event then says `application/octet-stream`, because receivers pick the content mode from
   * Content-Type and a client must not choose how its own body is read. The value is kept here, as data.
   */
  originalcontenttype: 'originalcontenttype',
  /**
   * CloudEvents' distributed-tracing extension: the W3C `traceparent` of the exchange (the caller's
   * trace, or a fresh one when the request had none, so both events of an exchange join) and the
   * caller's `tracestate` when it sent a valid one.
   */
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /**
   * Batched requests (the agent's request batcher): JSON `{"id","size","position"}` on both events,
   * the merged model call's id, how many client exchanges it merged, and this one's place in it.
   */
  batch: 'batch',
} as const;
