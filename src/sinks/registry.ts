/**
 * Which sink serves which `logger.url`: one line per scheme. The URL was checked when the
 * config loaded (./schemes.ts); this module loads the sinks' client libraries, so only the
 * commands that deliver import it.
 */
import { InferlogError } from '../core/errors.js';
import { createBlobSink } from './blob/sink.js';
import { createFileSink } from './file/sink.js';
import { createHttpSink } from './http/sink.js';
import { createKafkaSink } from './kafka/sink.js';
import { createOtlpSink } from './otlp/sink.js';
import { createLakeSink } from './parquet-lake/sink.js';
import { SINK_SCHEMES, type SinkScheme } from './schemes.js';
import type { Sink, SinkFactory, SinkOptions } from './sink.js';
import { createStdoutSink } from './stdout/sink.js';

const SINK_FACTORIES: Readonly<Record<SinkScheme, SinkFactory>> = {
  stdout: createStdoutSink,
  file: createFileSink,
  http: createHttpSink,
  https: createHttpSink,
  kafka: createKafkaSink,
  'otlp+http': createOtlpSink,
  'otlp+https': createOtlpSink,
  'otlp+grpc': createOtlpSink,
  s3: createBlobSink,
  gs: createBlobSink,
  abfs: createBlobSink,
};

/** Builds the sink for a logger URL (`undefined`, '' or `stdout` = stdout). */
export function createSinkFor(url: string | undefined, options: SinkOptions): Sink {
  if (options.blob?.layout === 'exchanges') {
    // The layout decides the sink: any blob URL (s3://, gs://, abfs://, a directory) as a lake.
    if (url === undefined || url === '' || url === 'stdout')
      throw new InferlogError(
        'CONFIG_INVALID',
        'blob-layout exchanges needs a blob storage URL (s3://, gs://, abfs://, or a directory)',
        { details: { option: 'blob-layout' } },
      );
    return createLakeSink(url, options);
  }
  const parsed = new URL(url === undefined || url === '' || url === 'stdout' ? 'stdout:' : url);
  const scheme = parsed.protocol.replace(/:$/, '') as SinkScheme;
  if (!(SINK_SCHEMES as readonly string[]).includes(scheme))
    throw new InferlogError(
      'CONFIG_INVALID',
      `no sink for ${parsed.protocol}// (supported: ${SINK_SCHEMES.join(', ')})`,
    );
  return SINK_FACTORIES[scheme](parsed, options);
}
