// A real Prometheus server (Debian's `prometheus`, scripts/peers/apt.sh) scrapes a running
// `inferlog up` and `inferlog collect` while traffic flows; every PromQL expression in the
// Grafana dashboard and in the recording and alerting rules must run against it, and every
// dashboard and recording expression must return data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const PROMETHEUS = process.env.INFERLOG_PROMETHEUS ?? '/usr/bin/prometheus';
const RULES = path.join(REPO_ROOT, 'deploy/prometheus/inferlog-rules.yaml');
const DASHBOARD = path.join(REPO_ROOT, 'deploy/grafana/inferlog.json');

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}
interface RuleFile {
  groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
}

/** Every target expression of the dashboard, with Grafana's variables as Grafana would fill them for "All". */
function dashboardQueries(): { title: string; expr: string }[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  const out: { title: string; expr: string }[] = [];
  const walk = (ps: Panel[]): void => {
    for (const p of ps) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ title: p.title ?? '', expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(dash.panels);
  return out.map((q) => ({
    title: q.title,
    expr: q.expr
      .replaceAll('$__rate_interval', '20s')
      .replaceAll('$namespace', '.*')
      .replaceAll('$model', '.*'),
  }));
}

interface PromResult {
  status: string;
  error?: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(port: number, expr: string): Promise<PromResult> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await res.json()) as PromResult;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const available = spawnSync(PROMETHEUS, ['--version']).status === 0;
/** A missing peer fails the run with the command that fixes it (never a silent skip). */
const missing = `${PROMETHEUS} is not installed: run \`bash scripts/peers/apt.sh install\` (Debian's prometheus package)`;

describe('the dashboard and rules against a real Prometheus scraping inferlog', () => {
  let dir: string;
  let collector: CliProcess;
  let up: CliProcess;
  let prometheus: ChildProcess;
  let promPort: number;
  let stopTraffic = false;
  let traffic: Promise<void>;

  beforeAll(async () => {
    if (!available) throw new Error(missing);
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-prom-'));
    const collectPort = await freePort();
    collector = await startCli([
      'collect',
      '--port',
      String(collectPort),
      '--store',
      `sqlite:${path.join(dir, 'inferlog.db')}`,
    ]);
    // The seed model, logging everything to the collector, sampling half (so sampled-out has data).
    const yaml = readFileSync(path.join(REPO_ROOT, 'examples/inferenceservice-with-logging.yaml'), 'utf8')
      .replace(
        'name: simple-model',
        'name: simple-model\n  annotations:\n    inferlog.dev/sample-rate: "0.5"',
      )
      .replace('mode: request ', `url: http://127.0.0.1:${collectPort}/\n      mode: all `)
      .replace('./models/simple-model', path.join(REPO_ROOT, 'examples/models/simple-model'));
    writeFileSync(path.join(dir, 'isvc.yaml'), yaml);
    const upPort = await freePort();
    up = await startCli(['up', '-f', path.join(dir, 'isvc.yaml'), '--port', String(upPort)]);

    promPort = await freePort();
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        `  - { job_name: inferlog-up, static_configs: [{ targets: ['127.0.0.1:${upPort}'] }] }`,
        `  - { job_name: inferlog-collector, static_configs: [{ targets: ['127.0.0.1:${collectPort}'] }] }`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prometheus.stderr?.on('data', (c: Buffer) => (promLog = (promLog + c.toString()).slice(-4000)));

    // Traffic: good requests, a bad body (4xx) and an unknown model, until the test is done.
    const send = (p: string, body: string): Promise<void> =>
      fetch(`http://127.0.0.1:${upPort}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      }).then((r) => void r.arrayBuffer());
    traffic = (async () => {
      for (let i = 0; !stopTraffic; i++) {
        await send('/v1/models/simple-model:predict', '{"instances":[1.0,2.0]}');
        if (i % 5 === 0) await send('/v1/models/simple-model:predict', '{"bad":');
        if (i % 7 === 0) await send(`/v1/models/other-${i}:predict`, '{}');
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    await until('Prometheus to scrape both targets twice', 60_000, async () => {
      const r = await query(promPort, 'count_over_time(up[1m]) >= 4 and up == 1');
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
      return r.data.result.length === 2 ? true : undefined;
    });
    // Stored events and a few scrapes of rising counters, so rate() has two points that differ.
    await until('the collector to commit events, as Prometheus saw', 60_000, async () => {
      const r = await query(promPort, 'rate(inferlog_collector_events_stored_total[20s]) > 0');
      return r.data.result.length > 0 ? true : undefined;
    });
    await until('the recording rules to evaluate', 60_000, async () => {
      const r = await query(promPort, 'inferlog:requests:rate5m > 0');
      return r.data.result.length > 0 ? true : undefined;
    });
  }, 180_000);

  afterAll(async () => {
    stopTraffic = true;
    await traffic?.catch(() => undefined);
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await up?.stop();
    await collector?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs every dashboard expression and gets data', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(15);
    const empty: string[] = [];
    for (const q of queries) {
      const r = await query(promPort, q.expr);
      expect(r.status, `${q.title}: ${q.expr}: ${r.error ?? ''}`).toBe('success');
      if (r.data.result.length === 0) empty.push(`${q.title}: ${q.expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('gets real numbers for per-model traffic, latency and the collector', async () => {
    const models = await query(
      promPort,
      'sum by (model, status_class) (rate(inferlog_requests_total[20s])) > 0',
    );
    const seen = models.data.result.map((s) => `${s.metric.model} ${s.metric.status_class}`);
    expect(seen).toEqual(expect.arrayContaining(['simple-model 2xx', 'simple-model 4xx', '(unmatched) 4xx']));
    const p99 = await query(promPort, 'inferlog:request_duration_seconds:p99_5m{model="simple-model"}');
    expect(Number(p99.data.result[0]?.value[1])).toBeGreaterThan(0);
    const dropped = await query(promPort, 'inferlog_exchanges_dropped_total');
    expect(dropped.data.result.length).toBeGreaterThan(0); // every reason exported, as 0
  });

  it('runs every recording and alerting rule expression; recording rules return data', async () => {
    const rules = parse(readFileSync(RULES, 'utf8')) as RuleFile;
    const empty: string[] = [];
    let count = 0;
    for (const group of rules.groups) {
      for (const rule of group.rules) {
        count++;
        const r = await query(promPort, rule.expr);
        expect(r.status, `${rule.record ?? rule.alert}: ${r.error ?? ''}`).toBe('success');
        if (rule.record && r.data.result.length === 0) empty.push(rule.record);
        // Nothing is wrong here: no alert fires on healthy traffic.
        if (rule.alert) expect(r.data.result, rule.alert).toEqual([]);
      }
    }
    expect(count).toBeGreaterThanOrEqual(19);
    expect(empty).toEqual([]);
  });
});

describe('deploy/grafana/inferlog.json structure', () => {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    templating: { list: { name: string }[] };
    panels: (Panel & { id: number; fieldConfig?: { defaults?: { links?: { url: string }[] } } })[];
    links: { url: string }[];
  };

  it('uses only variables it defines (or Grafana built-ins) in queries and links', () => {
    const defined = new Set(dash.templating.list.map((v) => v.name));
    expect([...defined].sort()).toEqual(['datasource', 'inferlog_url', 'model', 'namespace', 'traces']);
    const texts = [
      ...dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '')),
      ...dash.panels.flatMap((p) => (p.fieldConfig?.defaults?.links ?? []).map((l) => l.url)),
      ...dash.links.map((l) => l.url),
    ];
    const used = texts.flatMap((t) => [...t.matchAll(/\$\{?([A-Za-z_][\w.]*)/g)].map((m) => m[1] as string));
    const unknown = used.filter((v) => !v.startsWith('__') && !defined.has(v.split(':')[0] as string));
    expect(unknown).toEqual([]);
  });

  it('has unique panel ids and links every per-model panel to the inferlog UI', () => {
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const modelPanels = dash.panels.filter((p) =>
      (p.targets ?? []).some((t) => t.expr?.includes('model=~"$model"')),
    );
    expect(modelPanels.length).toBeGreaterThanOrEqual(4);
    const linked = modelPanels.filter((p) =>
      (p.fieldConfig?.defaults?.links ?? []).some((l) => l.url.startsWith('${inferlog_url}/#/?model=')),
    );
    expect(linked.length).toBeGreaterThanOrEqual(4);
  });
});
