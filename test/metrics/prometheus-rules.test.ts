// The Prometheus rules with Debian's promtool (scripts/peers/apt.sh): they load, each alert fires
// on its unit test's input, every metric they use is one the code exports, and each alert has
// its runbook in docs/operations.md.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../helpers/peers.js';

const PROMTOOL = process.env.INFERLOG_PROMTOOL ?? '/usr/bin/promtool';
const DIR = path.join(REPO_ROOT, 'deploy/prometheus');
const RULES = path.join(DIR, 'inferlog-rules.yaml');

interface RuleFile {
  groups: {
    rules: { record?: string; alert?: string; expr: string; annotations?: Record<string, string> }[];
  }[];
}
const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
const alerts = rules.groups.flatMap((g) => g.rules.filter((r) => r.alert));

const promtool = (...args: string[]) => spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8' });
const available = spawnSync(PROMTOOL, ['--version']).status === 0;
/** A missing peer fails the run with the command that fixes it (never a silent skip). */
const missing = `${PROMTOOL} is not installed: run \`bash scripts/peers/apt.sh install\` (Debian's prometheus package)`;

/** Every `name: 'inferlog_…'` a metric is registered with in src/. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith('.test.ts'))
        for (const m of readFileSync(p, 'utf8').matchAll(/name: '(inferlog_[a-z_]+)'/g))
          names.add(m[1] as string);
    }
  };
  walk(path.join(REPO_ROOT, 'src'));
  return names;
}

describe('deploy/prometheus with promtool', () => {
  beforeAll(() => {
    if (!available) throw new Error(missing);
  });
  it('passes promtool check rules', () => {
    const r = promtool('check', 'rules', RULES);
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it('passes promtool test rules, whose unit tests fire every alert', () => {
    const tests = readFileSync(path.join(DIR, 'inferlog-rules.test.yaml'), 'utf8');
    for (const a of alerts)
      expect(tests, `a unit test for ${a.alert}`).toMatch(new RegExp(`alertname: ${a.alert}\\n`));
    const r = promtool('test', 'rules', 'inferlog-rules.test.yaml');
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});

describe('deploy/prometheus rules', () => {
  it('cover the alerts the issue names', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual([
      'InferlogCollectorCommitSlow',
      'InferlogExchangesDropped',
      'InferlogModelErrorRateHigh',
      'InferlogModelLatencyHigh',
      'InferlogSinkFailing',
      'InferlogSpoolNearlyFull',
    ]);
  });

  it('use only metrics the code exports', () => {
    const exported = exportedMetrics();
    const used = new Set<string>();
    for (const g of rules.groups)
      for (const r of g.rules)
        for (const m of r.expr.matchAll(/\b(inferlog_[a-z_]+?)(?:_bucket|_count|_sum)?\b/g))
          used.add(m[1] as string);
    expect([...used].filter((m) => !exported.has(m))).toEqual([]);
  });

  it('link each alert to its runbook section in docs/operations.md', () => {
    const docs = readFileSync(path.join(REPO_ROOT, 'docs/operations.md'), 'utf8');
    for (const a of alerts) {
      expect(a.annotations?.runbook_url).toBe(`docs/operations.md#${(a.alert as string).toLowerCase()}`);
      expect(docs, `runbook for ${a.alert}`).toMatch(new RegExp(`^### ${a.alert}$`, 'm'));
    }
  });
});
