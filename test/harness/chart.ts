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
    'template', RELEASE, CHART_DIR, '--namespace', OPERATOR_NAMESPACE,
    '--show-only', 'templates/serviceaccount.yaml', '--show-only', 'templates/rbac.yaml',
  ]);
  if (rendered.code !== 0) throw new Error(`helm template: ${rendered.err}`);
  spawnSync(kubectlPath(), ['--kubeconfig', adminKubeconfig, 'create', 'namespace', OPERATOR_NAMESPACE], { encoding: 'utf8' });
  kubectl(adminKubeconfig, ['apply', '--server-side', '-f', '-'], rendered.out);
  const token = kubectl(adminKubeconfig, ['create', 'token', RELEASE, '-n', OPERATOR_NAMESPACE, '--duration', '6h']).trim();
  const admin = parse(readFileSync(adminKubeconfig, 'utf8'));
  const cluster = admin.clusters[0];
  const path = join(dir, 'chart-serviceaccount.kubeconfig');
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
