// The shared Sink contract, run by the http sink in per-event and batched mode.
import { sinkContract } from '../../src/sinks/sink.contract.js';
import { createHttpSink } from '../../src/sinks/http/sink.js';
import { sinkOptions, startRecorder, type Recorder } from './recorder.js';

/** Exchange ids in what the server received: Ce-Id of binary events, `id` of each batch element. */
function idsIn(rec: Recorder): string[] {
  const ids: string[] = [];
  for (const r of rec.received) {
    const ceId = rec.header(r, 'Ce-Id');
    if (ceId !== undefined) ids.push(ceId);
    else for (const e of JSON.parse(r.body.toString('utf8')) as Array<{ id: string }>) ids.push(e.id);
  }
  return ids;
}

for (const [label, batchSize] of [
  ['http per-event', 1],
  ['http batched', 4],
] as const) {
  sinkContract(label, {
    async create() {
      const rec = await startRecorder();
      return {
        sink: createHttpSink(new URL(rec.url), sinkOptions({ batchSize })),
        delivered: async () => idsIn(rec),
        close: () => rec.close(),
      };
    },
  });
}
