/**
 * What a process tree costs, read from /proc (Linux): CPU time and peak RSS.
 *
 *   /proc/<pid>/stat   utime+stime (clock ticks) ──▶ CPU ms, summed over the pid and its descendants
 *   /proc/<pid>/status VmHWM (peak RSS, kB)      ──▶ reset per load point via /proc/<pid>/clear_refs = 5
 *
 * Threads (libuv pool, worker threads) are included in a process's stat; child
 * processes (nginx workers) are found by scanning /proc for parent pids.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CLK_TCK = readClockTicks();

function readClockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

interface StatLine {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): StatLine | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** The pid and every live descendant. */
export function processTree(root: number): number[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const st = readStat(pid);
    if (!st) continue;
    const list = byParent.get(st.ppid) ?? [];
    list.push(pid);
    byParent.set(st.ppid, list);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(byParent.get(pid) ?? []));
  }
  return out;
}

/** CPU time (user+system) of a process tree so far, in milliseconds. */
export function cpuMs(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) ticks += readStat(pid)?.ticks ?? 0;
  return (ticks * 1000) / CLK_TCK;
}

/** Peak RSS of a process tree, in MiB (sum of each process's VmHWM). */
export function peakRssMiB(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += m ? Number(m[1]) : 0;
    } catch {
      // process ended between the scan and the read
    }
  }
  return kb / 1024;
}

/** Resets VmHWM to the current RSS, so the next peak belongs to the next load point. */
export function resetPeakRss(root: number): void {
  for (const pid of processTree(root)) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5');
    } catch {
      // needs the same user or root; without it the peak covers the process's whole life
    }
  }
}

/** CPU time the whole machine spent busy so far (all cores), in milliseconds, from /proc/stat. */
export function machineBusyMs(): number {
  try {
    const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return (busy * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** The 1-minute load average. */
export function loadAverage1(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}
