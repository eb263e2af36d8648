/**
 * Which sink serves which `logger.url`. One line per scheme; the config validator
 * lists these schemes when it meets an unknown one.
 */
import type { SinkFactory } from './sink.js';
import { createStdoutSink } from './stdout.js';

export const SINK_FACTORIES: ReadonlyMap<string, SinkFactory> = new Map<string, SinkFactory>([
  ['stdout:', createStdoutSink],
]);

export const SUPPORTED_SCHEMES: readonly string[] = [...SINK_FACTORIES.keys()].map((s) => s.replace(/:$/, ''));
