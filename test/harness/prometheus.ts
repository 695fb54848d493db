// Reading /metrics in tests with Prometheus' own text-format parser
// (github.com/prometheus/common/expfmt) and its naming linter (promlint, what
// `promtool check metrics` runs), through the small Go program in
// test/tools/promcheck. It is built once per source version with the Go
// toolchain the control plane needs anyway, and cached outside the repo.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const source = new URL('../tools/promcheck/', import.meta.url).pathname;

export interface MetricSample {
  labels: Record<string, string>;
  /** Counters, gauges, untyped. */
  value?: number;
  /** Histograms and summaries. */
  count?: number;
  sum?: number;
  buckets?: Record<string, number>;
}

export interface MetricFamily {
  name: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED' | 'GAUGE_HISTOGRAM';
  help: string;
  metrics: MetricSample[];
}

export interface CheckedMetrics {
  families: Map<string, MetricFamily>;
  /** promlint's findings, as "metric: text". */
  problems: string[];
}

function promcheckBinary(): string {
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(join(source, file)));
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const dir = join(cache, 'spiceai-operator', 'tools');
  const bin = join(dir, `promcheck-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}.tmp`;
    const r = spawnSync('go', ['build', '-trimpath', '-o', tmp, '.'], {
      cwd: source,
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=mod`.trim() },
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`building test/tools/promcheck failed (${r.status ?? r.error?.message}): ${r.stderr}`);
    renameSync(tmp, bin);
  }
  return bin;
}

/** Parses an exposition (throws with the parser's message when it is not valid text format) and lints it. */
export function checkMetrics(text: string): CheckedMetrics {
  const r = spawnSync(promcheckBinary(), [], { input: text, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`not valid Prometheus text format: ${r.stderr.trim() || r.error?.message}`);
  // Non-finite values come as the strings NaN, Infinity, -Infinity.
  const out = JSON.parse(r.stdout, (key, value) => ((key === 'value' || key === 'sum') && typeof value === 'string' ? Number(value) : value)) as {
    families: MetricFamily[];
    problems: { metric: string; text: string }[];
  };
  return {
    families: new Map(out.families.map((f) => [f.name, f])),
    problems: out.problems.map((p) => `${p.metric}: ${p.text}`),
  };
}

const matches = (labels: Record<string, string>, want: Record<string, string>) => Object.entries(want).every(([k, v]) => labels[k] === v);

/** The value of the first counter or gauge series matching `labels`, or undefined. */
export function sampleValue(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  return families.get(name)?.metrics.find((m) => matches(m.labels, labels))?.value;
}

/** The summed value of the counter or gauge series matching `labels` (0 when none). */
export function sumValues(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  return (families.get(name)?.metrics ?? []).filter((m) => matches(m.labels, labels)).reduce((n, m) => n + (m.value ?? 0), 0);
}

/** Observations of the histogram series matching `labels`, summed; undefined when there is none. */
export function histogramCount(families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const series = (families.get(name)?.metrics ?? []).filter((m) => matches(m.labels, labels));
  return series.length ? series.reduce((n, m) => n + (m.count ?? 0), 0) : undefined;
}

/** promlint problems of the families whose names start with one of `prefixes`. */
export function problemsOf(checked: CheckedMetrics, prefixes: string[]): string[] {
  return checked.problems.filter((p) => prefixes.some((prefix) => p.startsWith(prefix)));
}

// --- PromQL, judged by Prometheus's own parser (test/tools/promql) ---

export interface PromqlSelector {
  metric: string;
  matchers: { name: string; type: '=' | '!=' | '=~' | '!~'; value: string }[];
}

export interface ParsedPromql {
  expr: string;
  /** The parser's error; absent when the expression parsed. */
  error?: string;
  /** Metric names the expression's selectors name. */
  metrics: string[];
  selectors: PromqlSelector[];
}

let promqlBinary: string | undefined;

/** Parses each expression with github.com/prometheus/prometheus/promql/parser (built once per machine by test/tools/promql/build.sh). */
export function parsePromql(exprs: string[]): ParsedPromql[] {
  if (!promqlBinary) {
    const script = new URL('../tools/promql/build.sh', import.meta.url).pathname;
    const built = spawnSync('bash', [script], { encoding: 'utf8', timeout: 20 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
    if (built.status !== 0) throw new Error(`building test/tools/promql failed (exit ${built.status}${built.error ? `, ${built.error.message}` : ''})`);
    promqlBinary = built.stdout.trim().split('\n').pop()!;
  }
  const r = spawnSync(promqlBinary, [], { input: JSON.stringify(exprs), encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`promql failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ParsedPromql[];
}

/** Labels a scrape adds to every series (target labels), which /metrics itself never carries. */
export const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);

/** Whether some series of `families` matches the selector (target labels ignored: the scrape adds them). */
export function selectorMatches(families: Map<string, MetricFamily>, selector: PromqlSelector): boolean {
  // A histogram's _bucket/_sum/_count series belong to its family.
  const base = selector.metric.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(selector.metric) ?? (families.get(base)?.type === 'HISTOGRAM' ? families.get(base) : undefined);
  if (!family) return false;
  const own = selector.matchers.filter((m) => !TARGET_LABELS.has(m.name));
  return family.metrics.some((sample) =>
    own.every((m) => {
      const value = sample.labels[m.name] ?? '';
      const re = () => new RegExp(`^(?:${m.value})$`);
      return m.type === '=' ? value === m.value : m.type === '!=' ? value !== m.value : m.type === '=~' ? re().test(value) : !re().test(value);
    }),
  );
}
