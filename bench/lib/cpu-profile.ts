/**
 * Reads a V8 `.cpuprofile` (node --cpu-prof) and says where the time went.
 *
 *   samples + timeDeltas ──self time per node──▶ by function (top N) and by area
 *   (inferlog module, undici, node core module, GC, native), idle left out of the percentages
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { ProfileSummary } from './results.js';

const Profile = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

/** Which part of the profile to count, in µs before the profile's end (the process's exit). */
export interface ProfileWindow {
  fromEndUs: number;
  toEndUs: number;
}

function area(fn: string, url: string): string {
  if (!url) {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(idle)') return 'idle';
    if (fn === '(program)') return 'V8/native (program)';
    return 'native';
  }
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `inferlog ${dist[1]}`;
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return mod[1] as string;
  const core = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (core) return `node:${core[1]}`;
  return url.replace(/^file:\/\//, '');
}

function shortWhere(url: string, line: number): string {
  if (!url) return '';
  const s = url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
  return `${s}:${line + 1}`;
}

/**
 * `window` keeps only samples taken under load (startup — module loading, JIT of cold code —
 * and shutdown are not what a request costs).
 */
export function summariseProfile(
  path: string,
  scenario: string,
  window?: ProfileWindow,
  top = 20,
): ProfileSummary {
  const p = Profile.parse(JSON.parse(readFileSync(path, 'utf8')));
  const nodeById = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const from = window ? p.endTime - window.fromEndUs : -Infinity;
  const to = window ? p.endTime - window.toEndUs : Infinity;
  let t = p.startTime;
  p.samples.forEach((id, i) => {
    const d = p.timeDeltas[i] ?? 0;
    t += d;
    if (t >= from && t <= to) selfUs.set(id, (selfUs.get(id) ?? 0) + d);
  });

  const byArea = new Map<string, number>();
  const byFn = new Map<string, { fn: string; where: string; us: number }>();
  // For each sample, the nearest inferlog frame on its stack: whose work the time was done for.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owner = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = nodeById.get(cur);
      const m = n && /\/dist\/(.+)$/.exec(n.callFrame.url);
      if (m && n) return `${m[1]} ${n.callFrame.functionName || '(anonymous)'}`;
    }
    return '(no inferlog frame: node/undici internals, event loop)';
  };
  const byOwner = new Map<string, number>();

  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const n = nodeById.get(id);
    if (!n) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const a = area(functionName, url);
    if (a === 'idle') continue;
    busyUs += us;
    byArea.set(a, (byArea.get(a) ?? 0) + us);
    const o = owner(id);
    byOwner.set(o, (byOwner.get(o) ?? 0) + us);
    const key = `${functionName}@${url}:${lineNumber}`;
    const e = byFn.get(key) ?? {
      fn: functionName || '(anonymous)',
      where: shortWhere(url, lineNumber),
      us: 0,
    };
    e.us += us;
    byFn.set(key, e);
  }
  const pct = (us: number): number => (busyUs ? (us / busyUs) * 100 : 0);
  return {
    scenario,
    file: path,
    totalMs: busyUs / 1000,
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([a, us]) => ({ area: a, ms: us / 1000, pct: pct(us) })),
    byInferlogFrame: [...byOwner.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([frame, us]) => ({ frame, ms: us / 1000, pct: pct(us) })),
    topSelf: [...byFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, ms: f.us / 1000, pct: pct(f.us) })),
  };
}
