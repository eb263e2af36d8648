import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultLoggerSettings } from '../config/settings.js';
import { agentSpoolName, memoryOnlyWarning, planBuffer, stateHome, upSpoolName } from './default-spool.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), 'inferlog-default-spool-'));
  dirs.push(d);
  return d;
};

describe('stateHome', () => {
  it('is $XDG_STATE_HOME/inferlog, else ~/.local/state/inferlog; relative paths are ignored', () => {
    expect(stateHome({ XDG_STATE_HOME: '/s', HOME: '/h' })).toBe('/s/inferlog');
    expect(stateHome({ XDG_STATE_HOME: 'rel', HOME: '/h' })).toBe('/h/.local/state/inferlog');
    expect(stateHome({})).toBeUndefined();
  });
});

describe('planBuffer', () => {
  it('takes the default directory, created 0700, when the user gave none', () => {
    const home = tmp();
    const plan = planBuffer(defaultLoggerSettings(), agentSpoolName(9081), home);
    expect(plan.settings.spool.dir).toBe(path.join(home, 'agent-9081'));
    expect(plan.memoryOnly).toBeUndefined();
    expect(statSync(path.join(home, 'agent-9081')).mode & 0o777).toBe(0o700);
    expect(memoryOnlyWarning(plan)).toBeUndefined();
  });

  it('refuses a default under a state directory others can write to', () => {
    const home = path.join(tmp(), 'inferlog');
    mkdirSync(home, { mode: 0o777 });
    chmodSync(home, 0o777);
    const plan = planBuffer(defaultLoggerSettings(), 'agent-1', home);
    expect(plan.settings.spool.dir).toBeUndefined();
    expect(plan.memoryOnly).toMatch(/group or others can write/);
  });

  it('leaves an explicit --spool-dir alone', () => {
    const s = defaultLoggerSettings();
    s.spool.dir = '/explicit';
    expect(planBuffer(s, 'agent-1', tmp()).settings.spool.dir).toBe('/explicit');
  });

  it('--durability none: memory only, with the loss counter in the default directory', () => {
    const s = defaultLoggerSettings();
    s.spool.durability = 'none';
    const home = tmp();
    const plan = planBuffer(s, 'agent-1', home);
    expect(plan.memoryOnly).toBe('--durability none');
    expect(memoryOnlyWarning(plan)).toContain(path.join(home, 'agent-1', 'memory-counter'));
  });

  it('memory only, with the reason, when there is no usable directory or no stable name', () => {
    const file = path.join(tmp(), 'file');
    writeFileSync(file, 'x');
    const unusable = planBuffer(defaultLoggerSettings(), 'agent-1', file);
    expect(unusable.settings.spool.dir).toBeUndefined();
    expect(unusable.memoryOnly).toMatch(/^cannot use /);
    expect(memoryOnlyWarning(unusable)).toMatch(/nothing can count that loss/);
    expect(planBuffer(defaultLoggerSettings(), agentSpoolName(0), tmp()).memoryOnly).toMatch(/port 0/);
    expect(planBuffer(defaultLoggerSettings(), 'agent-1', undefined).memoryOnly).toMatch(
      /no state directory/,
    );
  });
});

describe('upSpoolName', () => {
  it('is one directory per port and service; names from a YAML cannot climb out', () => {
    expect(upSpoolName(8080, 'kserve-test', 'simple-model')).toBe('up-8080/kserve-test.simple-model');
    const hostile = upSpoolName(8080, '../..', 'a/b') as string;
    expect(path.dirname(hostile)).toBe('up-8080');
    expect(path.basename(hostile)).not.toMatch(/^\./);
    expect(upSpoolName(0, 'ns', 'svc')).toBeUndefined();
  });
});
