// An independent NetworkPolicy evaluator for tests: cyclonus's policy engine
// (github.com/mattfenwick/cyclonus, pkg/matcher) behind test/netpol/main.go,
// built once per machine by test/netpol/build.sh. Nobody here wrote the
// engine, so it checks what the operator's policies mean, not what we think
// they mean.
import { spawnSync } from 'node:child_process';

export interface ModelPort {
  name?: string;
  containerPort: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface ModelPod {
  id: string;
  /** Absent for a host outside the cluster, known only by its IP. */
  namespace?: string;
  labels?: Record<string, string>;
  ip: string;
  ports?: ModelPort[];
}

export interface Query {
  from: string;
  to: string;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Verdict extends Query {
  allowed: boolean;
  /** Whether the destination's ingress side allows it. */
  ingress: boolean;
  /** Whether the source's egress side allows it. */
  egress: boolean;
}

export interface EvaluatorInput {
  policies: unknown[];
  namespaces: Record<string, Record<string, string>>;
  pods: ModelPod[];
  queries: Query[];
}

let binary: string | undefined;

/** The evaluator binary, built first if this machine has none (a few minutes, once). */
export function netpolEvaluator(): string {
  if (binary) return binary;
  const script = new URL('../netpol/build.sh', import.meta.url).pathname;
  const r = spawnSync('bash', [script], { encoding: 'utf8', timeout: 40 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0)
    throw new Error(`building the NetworkPolicy evaluator failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''})`);
  binary = r.stdout.trim().split('\n').pop()!;
  return binary;
}

export function evaluate(input: EvaluatorInput): { engine: string; results: Verdict[] } {
  const r = spawnSync(netpolEvaluator(), ['-'], { input: JSON.stringify(input), encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`netpol-eval failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
