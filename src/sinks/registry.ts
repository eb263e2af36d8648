/**
 * Which sink serves which `logger.url`. One line per scheme; the config validator
 * lists these schemes when it meets an unknown one.
 */
import type { SinkFactory } from './sink.js';
import { createStdoutSink } from './stdout.js';
import { createFileSink } from './file.js';
import { createHttpSink } from './http/sink.js';
import { createKafkaSink } from './kafka/sink.js';

export const SINK_FACTORIES: ReadonlyMap<string, SinkFactory> = new Map<string, SinkFactory>([
  ['stdout:', createStdoutSink],
  ['file:', createFileSink],
  ['http:', createHttpSink],
  ['https:', createHttpSink],
  ['kafka:', createKafkaSink],
]);

export const SUPPORTED_SCHEMES: readonly string[] = [...SINK_FACTORIES.keys()].map((s) =>
  s.replace(/:$/, ''),
);

/** Builds the sink for a logger URL (`undefined` or `stdout` = stdout). The URL was validated at config load. */
export function createSinkFor(
  url: string | undefined,
  options: import('./sink.js').SinkOptions,
): import('./sink.js').Sink {
  const parsed = new URL(url === undefined || url === '' || url === 'stdout' ? 'stdout:' : url);
  const factory = SINK_FACTORIES.get(parsed.protocol);
  if (!factory)
    throw new Error(`no sink for ${parsed.protocol}// (supported: ${SUPPORTED_SCHEMES.join(', ')})`);
  return factory(parsed, options);
}
