// The Helm chart with the real tools (scripts/peers/k8s-tools.sh builds them from their Go
// modules): `helm lint` and `helm template` for the default values and two other value sets,
// every rendered manifest validated by kubeconform against the Kubernetes schemas and the CRDs
// (KServe's InferenceService, prometheus-operator's), and deploy/ kept in step with the chart.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../helpers/peers.js';

const TOOLS = path.join(process.env.INFERLOG_PEERS_DIR ?? path.join(REPO_ROOT, '.peers'), 'k8s-tools');
const HELM = path.join(TOOLS, 'bin/helm');
const KUBECONFORM = path.join(TOOLS, 'bin/kubeconform');
const SCHEMAS = path.join(TOOLS, 'schemas');
const CHART = path.join(REPO_ROOT, 'deploy/helm/inferlog');

const VALUE_SETS: Record<string, string[]> = {
  default: [],
  postgres: ['-f', path.join(CHART, 'ci/postgres-values.yaml')],
  example: ['-f', path.join(CHART, 'ci/example-values.yaml')],
  'cert-manager': ['-f', path.join(CHART, 'ci/cert-manager-values.yaml')],
  insecure: ['-f', path.join(CHART, 'ci/insecure-values.yaml')],
  oidc: ['-f', path.join(CHART, 'ci/oidc-values.yaml')],
};

/**
 * Kinds kubeconform has no schema for here: cert-manager's Certificate (its CRDs ship as Helm
 * templates in cert-manager's module, not as files k8s-schemas.py can read). The test below checks
 * the Certificate's fields itself.
 */
const SKIP_KINDS: Record<string, string[]> = { 'cert-manager': ['Certificate'] };

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8', cwd: REPO_ROOT });

function template(values: string[], extra: string[] = []) {
  return run(HELM, ['template', 'inferlog', CHART, '--namespace', 'inferlog', ...values, ...extra]);
}

function manifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

const kinds = (ms: Manifest[]): string[] => ms.map((m) => m.kind).sort();

describe('deploy/helm/inferlog', () => {
  let dir: string;
  beforeAll(() => {
    for (const tool of [HELM, KUBECONFORM, SCHEMAS])
      if (!existsSync(tool))
        throw new Error(`${tool} is missing: run \`bash scripts/peers/k8s-tools.sh install\``);
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-helm-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** kubeconform, strict, offline: every resource must find its schema (none skipped). */
  function kubeconform(files: string | string[], skip: string[] = []) {
    const r = run(KUBECONFORM, [
      '-strict',
      '-summary',
      ...(skip.length > 0 ? ['-skip', skip.join(',')] : []),
      '-schema-location',
      path.join(SCHEMAS, '{{ .ResourceKind }}{{ .KindSuffix }}.json'),
      ...(Array.isArray(files) ? files : [files]),
    ]);
    return { ok: r.status === 0, out: r.stdout + r.stderr };
  }

  for (const [name, values] of Object.entries(VALUE_SETS)) {
    it(`lints, renders and validates with the ${name} values`, () => {
      const lint = run(HELM, ['lint', CHART, '--strict', ...values]);
      expect(lint.stdout + lint.stderr).toContain('0 chart(s) failed');
      expect(lint.status).toBe(0);

      const t = template(values);
      expect(t.stderr).toBe('');
      expect(t.status).toBe(0);
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, t.stdout);
      const skip = SKIP_KINDS[name] ?? [];
      const v = kubeconform(file, skip);
      expect(v.out).toMatch(new RegExp(`Invalid: 0, Errors: 0, Skipped: ${skip.length}`));
      expect(v.ok, v.out).toBe(true);
    });
  }

  it('renders what each value set asks for', () => {
    expect(kinds(manifests(template([]).stdout))).toEqual([
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'PersistentVolumeClaim',
      'Service',
    ]);
    const pg = manifests(template(VALUE_SETS.postgres as string[]).stdout);
    expect(kinds(pg)).toEqual([
      'ConfigMap',
      'ConfigMap',
      'Deployment',
      'NetworkPolicy',
      'PrometheusRule',
      'Service',
      'ServiceMonitor',
    ]);
    const deployment = pg.find((m) => m.kind === 'Deployment') as Manifest;
    const text = JSON.stringify(deployment);
    expect(text).toContain('$(INFERLOG_STORE_URL)'); // the URL comes from the Secret, not the args
    expect(text).toContain('"secretName":"inferlog-auth"');
    expect(text).toContain('"secretName":"inferlog-tls"');
    expect(text).toContain('"scheme":"HTTPS"');
    const dashboard = pg.find((m) => m.kind === 'ConfigMap' && m.metadata.name.endsWith('-dashboard'));
    expect(dashboard?.metadata.namespace).toBe('monitoring');
    expect(dashboard?.metadata.labels?.grafana_dashboard).toBe('1');

    const example = manifests(template(VALUE_SETS.example as string[]).stdout);
    expect(kinds(example)).toEqual(['Deployment', 'InferenceService', 'Service']);
    const isvc = example.find((m) => m.kind === 'InferenceService') as Manifest;
    // Agents send to the ingest port, over TLS.
    expect(JSON.stringify(isvc.spec)).toContain(
      '"url":"https://inferlog-collector.inferlog.svc.cluster.local:8091/"',
    );
  });

  it('is secure by default: TLS, an auth file, a separate ingest port only agent pods reach', () => {
    const ms = manifests(template([]).stdout);
    const deployment = ms.find((m) => m.kind === 'Deployment') as Manifest;
    const container = (
      deployment.spec as {
        template: { spec: { containers: Array<{ args: string[]; ports: Array<{ name: string }> }> } };
      }
    ).template.spec.containers[0]!;
    const args = container.args.join(' ');
    expect(args).toContain('--auth-file /etc/inferlog/auth/auth.yaml');
    expect(args).toContain('--tls-cert /etc/inferlog/tls/tls.crt --tls-key /etc/inferlog/tls/tls.key');
    expect(args).toContain('--ingest-port 8091 --ingest-open');
    expect(args).not.toContain('--insecure-no-auth');
    expect(args).not.toContain('--metrics-public');
    expect(container.ports.map((p) => p.name)).toEqual(['http', 'ingest']);
    expect(JSON.stringify(deployment)).toContain('"scheme":"HTTPS"');

    const policy = ms.find((m) => m.kind === 'NetworkPolicy') as Manifest;
    const ingress = (policy.spec as { ingress: Array<{ from: unknown[]; ports: Array<{ port: string }> }> })
      .ingress;
    expect(ingress.map((r) => r.ports.map((p) => p.port))).toEqual([['ingest'], ['http']]);
    // Ingest: only pods KServe made for an InferenceService, or labelled as running inferlog's agent.
    expect(ingress[0]!.from).toEqual([
      {
        namespaceSelector: {},
        podSelector: {
          matchExpressions: [{ key: 'serving.kserve.io/inferenceservice', operator: 'Exists' }],
        },
      },
      { namespaceSelector: {}, podSelector: { matchLabels: { 'inferlog.dev/agent': 'true' } } },
    ]);
    // Reads: not every pod of the cluster.
    expect(ingress[1]!.from).not.toContainEqual({ namespaceSelector: {} });
    const service = ms.find((m) => m.kind === 'Service') as Manifest;
    expect((service.spec as { ports: Array<{ name: string; port: number }> }).ports).toEqual([
      { name: 'https', port: 443, targetPort: 'http' },
      { name: 'ingest', port: 8091, targetPort: 'ingest' },
    ]);
  });

  it('has cert-manager issue the certificate, with mutual TLS and ingest that needs credentials', () => {
    const ms = manifests(template(VALUE_SETS['cert-manager'] as string[]).stdout);
    const cert = ms.find((m) => m.kind === 'Certificate') as Manifest;
    expect(cert.apiVersion).toBe('cert-manager.io/v1');
    expect(cert.spec).toMatchObject({
      secretName: 'inferlog-collector-tls',
      issuerRef: { name: 'cluster-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
      usages: ['server auth'],
    });
    expect((cert.spec as { dnsNames: string[] }).dnsNames).toEqual([
      'inferlog-collector',
      'inferlog-collector.inferlog',
      'inferlog-collector.inferlog.svc',
      'inferlog-collector.inferlog.svc.cluster.local',
      'inferlog.example.com',
    ]);
    const args = JSON.stringify(ms.find((m) => m.kind === 'Deployment'));
    expect(args).toContain('"--tls-client-ca","/etc/inferlog/tls/ca.crt"');
    expect(args).toContain('"--ingest-port","8091"');
    expect(args).not.toContain('--ingest-open');
    expect(args).toContain('"--metrics-public"');
  });

  it('signs people in with OIDC: the flags, and egress to the provider only', () => {
    const ms = manifests(template(VALUE_SETS.oidc as string[]).stdout);
    const args = JSON.stringify(ms.find((m) => m.kind === 'Deployment'));
    expect(args).toContain('"--oidc-issuer","https://login.example.com/realms/ml"');
    expect(args).toContain('"--oidc-audience","inferlog-ui"');
    expect(args).toContain('"--oidc-claim","groups"');
    expect(args).toContain('"--oidc-group","ml-admins=admin","--oidc-group","ml-readers=read:team-a"');
    const policy = ms.find((m) => m.kind === 'NetworkPolicy') as Manifest;
    expect((policy.spec as { egress: unknown[] }).egress).toContainEqual({
      to: [{ ipBlock: { cidr: '203.0.113.10/32' } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    });
    // Without OIDC there is no such egress.
    const plain = manifests(template([]).stdout).find((m) => m.kind === 'NetworkPolicy') as Manifest;
    expect(JSON.stringify((plain.spec as { egress: unknown[] }).egress)).not.toContain('443');
  });

  it('runs without auth only when told to, loudly', () => {
    const args = JSON.stringify(manifests(template(VALUE_SETS.insecure as string[]).stdout));
    expect(args).toContain('"--insecure-no-auth"');
    expect(args).not.toContain('--auth-file');
    expect(args).not.toContain('--ingest-port');
  });

  it('refuses values that cannot work, saying which', () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'store.type=postgres'], /store\.postgres\.existingSecret/],
      [['--set', 'collector.replicas=2'], /needs store\.type=postgres/],
      [['--set', 'store.type=mysql'], /store\.type must be sqlite or postgres/],
      [['--set', 'auth.existingSecret='], /auth\.existingSecret/],
      [['--set', 'tls.secretName='], /tls\.secretName/],
      [['--set', 'auth.enabled=false'], /collector\.insecureNoAuth=true/],
      [['--set', 'tls.certManager.enabled=true'], /issuerRef\.name/],
      [['--set', 'ingest.port=8090'], /ingest\.port must differ/],
      [['--set', 'serviceMonitor.enabled=true'], /serviceMonitor\.tokenSecret\.name/],
      [['--set', 'oidc.enabled=true'], /oidc\.issuer/],
      [
        ['--set', 'oidc.enabled=true', '--set', 'oidc.issuer=https://x', '--set', 'oidc.audience=a'],
        /oidc\.groups/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = template(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
  });

  it('ships the same rules and dashboard as deploy/prometheus and deploy/grafana', () => {
    const same = (a: string, b: string): void =>
      expect(readFileSync(path.join(CHART, 'files', a), 'utf8'), a).toBe(
        readFileSync(path.join(REPO_ROOT, b), 'utf8'),
      );
    same('inferlog-rules.yaml', 'deploy/prometheus/inferlog-rules.yaml');
    same('inferlog.json', 'deploy/grafana/inferlog.json');
    const rule = manifests(template(VALUE_SETS.postgres as string[]).stdout).find(
      (m) => m.kind === 'PrometheusRule',
    );
    expect(rule?.spec).toEqual(
      parse(readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/inferlog-rules.yaml'), 'utf8')),
    );
  });

  it('keeps deploy/kubernetes in step with the chart (scripts/render-k8s-manifests.sh)', () => {
    const rendered = template(['-f', path.join(CHART, 'ci/kubernetes-manifests-values.yaml')]).stdout;
    const committed = readFileSync(path.join(REPO_ROOT, 'deploy/kubernetes/inferlog-collector.yaml'), 'utf8');
    // The file is a header comment, then exactly what helm renders.
    expect(committed.slice(committed.indexOf('\n---\n') + 1)).toBe(rendered);
  });

  it("validates the raw manifests in deploy/kubernetes, InferenceServices against KServe's CRD", () => {
    // kserve-agent-image-patch.yaml is a patch for a ConfigMap, not a resource: compared below.
    const v = kubeconform(
      ['inferlog-collector.yaml', 'inferenceservice-to-collector.yaml'].map((f) =>
        path.join(REPO_ROOT, 'deploy/kubernetes', f),
      ),
    );
    expect(v.out).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
    expect(v.ok, v.out).toBe(true);
    const patch = parse(
      readFileSync(path.join(REPO_ROOT, 'deploy/kubernetes/kserve-agent-image-patch.yaml'), 'utf8'),
    ) as {
      data: { agent: string };
    };
    const chartPatch = manifests(
      template([], ['--show-only', 'templates/kserve-agent-patch.yaml']).stdout,
    )[0] as Manifest;
    expect(parse(chartPatch.data?.['patch.yaml'] ?? '')).toEqual(patch);
    expect(JSON.parse(patch.data.agent)).toMatchObject({ image: 'ghcr.io/your-org/inferlog:0.1.0' });
  });
});
