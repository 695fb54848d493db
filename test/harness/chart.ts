// The chart's own RBAC on the test cluster, and a kubeconfig holding a token
// of the chart's ServiceAccount, so the operator can be tested with exactly
// the permissions the chart grants it.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { helmPath, kubectlPath } from './tools.ts';

export const CHART_DIR = new URL('../../chart', import.meta.url).pathname;
export const OPERATOR_NAMESPACE = 'spiceai-operator-system';
export const RELEASE = 'spiceai-operator';

export function helm(args: string[]) {
  const r = spawnSync(helmPath(), args, { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function kubectl(kubeconfig: string, args: string[], input?: string): string {
  const r = spawnSync(kubectlPath(), ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', input });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Installs the chart's ServiceAccount, ClusterRole, Role and bindings; returns a kubeconfig of that ServiceAccount. */
export function chartServiceAccountKubeconfig(adminKubeconfig: string, dir: string): string {
  const rendered = helm([
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    OPERATOR_NAMESPACE,
    '--show-only',
    'templates/serviceaccount.yaml',
    '--show-only',
    'templates/rbac.yaml',
  ]);
  if (rendered.code !== 0) throw new Error(`helm template: ${rendered.err}`);
  spawnSync(kubectlPath(), ['--kubeconfig', adminKubeconfig, 'create', 'namespace', OPERATOR_NAMESPACE], { encoding: 'utf8' });
  kubectl(adminKubeconfig, ['apply', '--server-side', '-f', '-'], rendered.out);
  return serviceAccountKubeconfig(adminKubeconfig, OPERATOR_NAMESPACE, RELEASE, dir);
}

/** A kubeconfig holding a token of an existing ServiceAccount (a release's, installed by helm). */
export function serviceAccountKubeconfig(adminKubeconfig: string, namespace: string, name: string, dir: string): string {
  const token = kubectl(adminKubeconfig, ['create', 'token', name, '-n', namespace, '--duration', '6h']).trim();
  const admin = parse(readFileSync(adminKubeconfig, 'utf8'));
  const cluster = admin.clusters[0];
  const path = join(dir, `${namespace}-${name}.kubeconfig`);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: cluster.name, cluster: cluster.cluster }],
      users: [{ name: 'chart-serviceaccount', user: { token } }],
      contexts: [{ name: 'chart', context: { cluster: cluster.name, user: 'chart-serviceaccount' } }],
      'current-context': 'chart',
    }),
    { mode: 0o600 },
  );
  return path;
}

let kubeScore: string | undefined;
/** kube-score, built once from the pinned Go modules (scripts/go-tools; a minute or two the first time). */
export function kubeScorePath(): string {
  if (kubeScore) return kubeScore;
  const script = new URL('../../scripts/go-tools/build.sh', import.meta.url).pathname;
  const r = spawnSync('bash', [script, 'kube-score'], { encoding: 'utf8', timeout: 30 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`building kube-score failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
  kubeScore = r.stdout.trim().split('\n').pop()!;
  return kubeScore;
}

export interface KubeScoreFinding {
  object: string;
  check: string;
  grade: 'CRITICAL' | 'WARNING';
  summary: string;
}

/** kube-score's CRITICAL and WARNING findings for rendered manifests (every default check, plus the seccomp one). */
export function kubeScoreFindings(manifests: string): KubeScoreFinding[] {
  const r = spawnSync(kubeScorePath(), ['score', '--enable-optional-test', 'container-seccomp-profile', '--output-format', 'json', '-'], {
    input: manifests,
    encoding: 'utf8',
  });
  if (r.error || !r.stdout) throw new Error(`kube-score: ${r.error?.message ?? r.stderr}`);
  const out: KubeScoreFinding[] = [];
  for (const object of JSON.parse(r.stdout) as any[]) {
    for (const c of object.checks ?? []) {
      if (c.skipped || c.grade > 5) continue; // 10 OK, 7 ALMOST OK, 5 WARNING, 1 CRITICAL (kube-score scorecard grades)
      for (const comment of c.comments ?? [{ summary: '' }]) {
        out.push({
          object: `${object.type_meta.kind}/${object.object_meta.name}`,
          check: c.check.id,
          grade: c.grade <= 1 ? 'CRITICAL' : 'WARNING',
          summary: comment.summary,
        });
      }
    }
  }
  return out;
}
