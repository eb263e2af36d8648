import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultLoggerSettings } from '../config/settings.js';
import { processCount, processLogUrl, sharedLogUrlProblem } from './agent-processes.js';
import { agentSpoolName, processSpoolName, processSpoolSettings, strandedSpools } from './default-spool.js';

describe('processCount (--processes)', () => {
  it('is 1 by default, a count from 1 to 256, or auto (one per core)', () => {
    expect(processCount(undefined)).toBe(1);
    expect(processCount('1')).toBe(1);
    expect(processCount('4')).toBe(4);
    expect(processCount('auto')).toBe(Math.min(256, availableParallelism()));
  });

  it('refuses anything else with USAGE_INVALID naming the flag', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '257', '1e3', ' ']) {
      expect(() => processCount(bad), bad).toThrow(
        expect.objectContaining({ code: 'USAGE_INVALID', message: expect.stringMatching(/--processes/) }),
      );
    }
  });
});

describe('a spool per process', () => {
  it('puts process i under worker-<i> of the chosen or default directory', () => {
    const s = defaultLoggerSettings();
    s.spool.dir = '/var/spool/inferlog';
    expect(processSpoolSettings(s, 3).spool.dir).toBe(path.join('/var/spool/inferlog', 'worker-3'));
    expect(s.spool.dir).toBe('/var/spool/inferlog'); // not mutated
    expect(processSpoolSettings(defaultLoggerSettings(), 0).spool.dir).toBeUndefined();
    expect(processSpoolName(agentSpoolName(9081), 1)).toBe(path.join('agent-9081', 'worker-1'));
    expect(processSpoolName(agentSpoolName(0), 1)).toBeUndefined();
  });
});

describe('a log URL per process', () => {
  it('gives a file:// sink one file per process, so each rotates only its own', () => {
    expect(processLogUrl('file:///var/log/inferlog/requests.jsonl?maxBytes=1MiB', 1)).toBe(
      'file:///var/log/inferlog/requests.worker-1.jsonl?maxBytes=1MiB',
    );
    expect(processLogUrl('file:///tmp/log', 0)).toBe('file:///tmp/log.worker-0');
    expect(processLogUrl('file://./out.jsonl', 2)).toBe('file://./out.worker-2.jsonl');
    expect(processLogUrl('http://collector:8090/', 1)).toBe('http://collector:8090/');
    expect(processLogUrl('kafka://broker:9092/topic', 1)).toBe('kafka://broker:9092/topic');
  });

  it('refuses stdout shared by several processes (lines could interleave)', () => {
    expect(sharedLogUrlProblem('stdout')).toMatch(/--log-url stdout cannot be shared/);
    expect(sharedLogUrlProblem('file:///tmp/x.jsonl')).toBeUndefined();
    expect(sharedLogUrlProblem(undefined)).toBeUndefined();
  });
});

describe('strandedSpools', () => {
  it('names the spools a run with a different --processes would leave undelivered', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'inferlog-stranded-'));
    const seg = (dir: string): void => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'segment-0000000001.dat'), 'x');
    };
    seg(root); // a single-process run's spool
    seg(path.join(root, 'worker-0'));
    seg(path.join(root, 'worker-3'));
    mkdirSync(path.join(root, 'worker-5')); // no segments: nothing to deliver
    expect(strandedSpools(root, 1)).toEqual([path.join(root, 'worker-0'), path.join(root, 'worker-3')]);
    expect(strandedSpools(root, 2)).toEqual([root, path.join(root, 'worker-3')].sort());
    expect(strandedSpools(root, 4)).toEqual([root]);
    expect(strandedSpools(path.join(root, 'absent'), 2)).toEqual([]);
  });
});
