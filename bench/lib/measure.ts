/**
 * One load point: warm up, reset peaks, run the generator, read what each process spent.
 *
 *   warm-up run ─▶ reset VmHWM ─▶ cpu before ─▶ measured run ─▶ settle ─▶ cpu after, peak RSS
 *
 * The settle pause lets work the proxy deferred (batched delivery) land inside the window,
 * so batching cannot hide its cost by finishing after the figures were read.
 */
import type { LoadGenerator, LoadResult } from './load/generator.js';
import type { Payload } from './payloads.js';
import type { RunningScenario } from './scenarios.js';
import { cpus } from 'node:os';
import { cpuMs, loadAverage1, machineBusyMs, peakRssMiB, resetPeakRss } from './proc-stats.js';

export interface PointSettings {
  durationS: number;
  warmupS: number;
  timeoutS: number;
  settleMs: number;
}

export interface ProcessCost {
  name: string;
  cpuMs: number;
  peakRssMiB: number;
}

export interface PointMeasure {
  load: LoadResult;
  processes: ProcessCost[];
  subject: ProcessCost;
  /** CPU used outside the measured processes (the load generator, and anything else running), % of all cores. */
  outsideCpuPct: number;
  loadAverage1: number;
  /** Requests the warm-up run completed (they are logged too). */
  warmupRequests: number;
}

export async function measurePoint(
  gen: LoadGenerator,
  running: RunningScenario,
  payload: Payload,
  connections: number,
  s: PointSettings,
): Promise<PointMeasure> {
  const spec = { url: running.url, bodyPath: payload.path, connections, timeoutS: s.timeoutS };
  const warmup = s.warmupS > 0 ? await gen.run({ ...spec, durationS: s.warmupS }) : undefined;
  for (const p of running.processes) resetPeakRss(p.pid);
  const before = running.processes.map((p) => cpuMs(p.pid));
  const busy0 = machineBusyMs();
  const t0 = performance.now();
  const load = await gen.run({ ...spec, durationS: s.durationS });
  await new Promise((r) => setTimeout(r, s.settleMs));
  const processes = running.processes.map((p, i) => ({
    name: p.name,
    cpuMs: cpuMs(p.pid) - (before[i] ?? 0),
    peakRssMiB: peakRssMiB(p.pid),
  }));
  const windowMs = performance.now() - t0;
  const ours = processes.reduce((n, p) => n + p.cpuMs, 0);
  const outsideCpuPct = ((machineBusyMs() - busy0 - ours) / (windowMs * cpus().length)) * 100;
  const subject = processes[running.processes.indexOf(running.subject)] as ProcessCost;
  return {
    load,
    processes,
    subject,
    outsideCpuPct,
    loadAverage1: loadAverage1(),
    warmupRequests: warmup?.requests ?? 0,
  };
}
