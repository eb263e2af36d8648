/**
 * Both processes use every core (issue 10): throughput at 1, 2 and `auto` processes.
 *
 *   agent:     wrk ──▶ inferlog agent --processes N (all → file://, scenario 4's setup) ──▶ up
 *   collector: wrk ──KServe's events, 100 per POST──▶ inferlog collect --workers N (fresh SQLite)
 *
 * CPU is the whole process tree's (the primary and its node:cluster workers, lib/proc-stats.ts),
 * so a worker's work is never left out. `--processes`/`--workers` is passed only when N ≠ 1: a
 * build whose `collect` does not know `--workers` still gives the one-process figure, and the
 * others are reported as not available in this build rather than failing the run.
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { LoadGenerator } from './load/generator.js';
import type { Payload } from './payloads.js';
import { measurePoint } from './measure.js';
import { ingestPoint, startCollect, WorkersUnsupported } from './ingest.js';
import { waitForLine } from './processes.js';
import { MODEL_PATH, startAgent, startUp, type BenchEnv } from './scenarios.js';
import type { ScalingPart, ScalingResults } from './results.js';

export const SCALING_COUNTS = ['1', '2', 'auto'] as const;

export interface ScalingOptions {
  durationS: number;
  warmupS: number;
  timeoutS: number;
  /** Agent load: connections of the reference point (64). */
  agentConnections: number;
  /** Collector load: wrk connections (as the ingest points). */
  collectorConnections: number;
  progress: (line: string) => void;
}

const message = (err: unknown): string =>
  err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);

async function agentScaling(
  env: BenchEnv,
  gen: LoadGenerator,
  payload: Payload,
  o: ScalingOptions,
): Promise<ScalingPart> {
  const part: ScalingPart = { unit: 'req/s', points: [] };
  const notes: string[] = [];
  for (const count of SCALING_COUNTS) {
    const id = `scaling-agent-${count}`;
    const dir = join(env.tmp, `${id}-log`);
    mkdirSync(dir, { recursive: true });
    const started = [];
    try {
      const model = await startUp(env, `model-${id}`, undefined);
      started.push(model.proc);
      const agent = await startAgent(env, id, model.port, [
        '--log-url',
        `file://${dir}/requests.jsonl`,
        '--log-mode',
        'all',
        ...(count === '1' ? [] : ['--processes', count]),
      ]);
      started.push(agent.proc);
      // The port answers once the first process listens; the others may still be starting.
      await waitForLine(agent.proc, /: ready —/);
      const m = await measurePoint(
        gen,
        {
          url: `http://127.0.0.1:${agent.port}${MODEL_PATH}`,
          subject: agent.proc,
          processes: [model.proc, agent.proc],
        },
        payload,
        o.agentConnections,
        { durationS: o.durationS, warmupS: o.warmupS, timeoutS: o.timeoutS, settleMs: 300 },
      );
      const wallMs = m.load.durationS * 1000 + 300;
      part.points.push({
        count,
        rate: m.load.rps,
        cpuUsPerUnit: m.load.requests > 0 ? (m.subject.cpuMs * 1000) / m.load.requests : NaN,
        coresUsed: m.subject.cpuMs / wallMs,
        errors: m.load.errors,
      });
      o.progress(
        `scaling agent --processes ${count}: ${Math.round(m.load.rps)} req/s, ${(m.subject.cpuMs / wallMs).toFixed(2)} cores, ${m.load.errors} errors`,
      );
    } catch (err) {
      notes.push(`--processes ${count}: ${message(err)}`);
      o.progress(`scaling agent --processes ${count}: FAILED ${message(err)}`);
    } finally {
      await Promise.all(started.map((p) => env.group.stop(p)));
    }
  }
  if (notes.length) part.note = notes.join('; ');
  return part;
}

async function collectorScaling(env: BenchEnv, o: ScalingOptions): Promise<ScalingPart> {
  const part: ScalingPart = { unit: 'events/s', points: [] };
  const notes: string[] = [];
  for (const count of SCALING_COUNTS) {
    try {
      const c = await startCollect(env.group, {
        name: `collect-scaling-${count}`,
        cliPath: env.cliPath,
        cwd: env.repo,
        store: `sqlite:${join(env.tmp, `scaling-${count}.db`)}`,
        workers: count === 'auto' ? 'auto' : Number(count),
      });
      try {
        const p = await ingestPoint(c, {
          mode: 'batch',
          durationS: o.durationS,
          warmupS: o.warmupS,
          connections: o.collectorConnections,
          tag: `scaling-${count}`,
        });
        part.points.push({
          count,
          rate: p.eventsPerS,
          cpuUsPerUnit: p.cpuUsPerEvent,
          coresUsed: p.coresUsed,
          errors: p.errors,
        });
        o.progress(
          `scaling collect --workers ${count}: ${Math.round(p.eventsPerS)} events/s, ${p.coresUsed.toFixed(2)} cores, ${p.errors} errors`,
        );
      } finally {
        await env.group.stop(c.proc);
      }
    } catch (err) {
      const what = err instanceof WorkersUnsupported ? 'not available in this build' : message(err);
      notes.push(`--workers ${count}: ${what}`);
      o.progress(`scaling collect --workers ${count}: ${what}`);
    }
  }
  if (notes.length) part.note = notes.join('; ');
  return part;
}

export async function runScaling(
  env: BenchEnv,
  gen: LoadGenerator,
  payload: Payload,
  o: ScalingOptions,
): Promise<ScalingResults> {
  return {
    cores: availableParallelism(),
    agent: await agentScaling(env, gen, payload, o),
    collector: await collectorScaling(env, o),
  };
}
