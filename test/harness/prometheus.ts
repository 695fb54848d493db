// Reading /metrics in tests with Prometheus' own text-format parser
// (github.com/prometheus/common/expfmt) and its naming linter (promlint, what
// `promtool check metrics` runs), through the small Go program in
// test/tools/promcheck. It is built once per machine with the Go toolchain
// the control plane needs anyway (scripts/go-build.sh), cached outside the repo.
import { spawnSync } from 'node:child_process';

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

let promcheck: string | undefined;

/** Built once per machine by test/tools/promcheck/build.sh (scripts/go-build.sh). */
function promcheckBinary(): string {
  promcheck ??= goBuilt('test/tools/promcheck/build.sh');
  return promcheck;
}

/** Runs one of the Go build scripts and returns the path it prints (the build's log goes to stderr). */
function goBuilt(script: string): string {
  const path = new URL(`../../${script}`, import.meta.url).pathname;
  const built = spawnSync('bash', [path], { encoding: 'utf8', timeout: 20 * 60_000, stdio: ['ignore', 'pipe', 'inherit'] });
  if (built.status !== 0) throw new Error(`${script} failed (exit ${built.status}${built.error ? `, ${built.error.message}` : ''})`);
  return built.stdout.trim().split('\n').pop()!;
}

/** Parses an exposition (throws with the parser's message when it is not valid text format) and lints it. */
export function checkMetrics(text: string): CheckedMetrics {
  const r = spawnSync(promcheckBinary(), [], { input: text, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`not valid Prometheus text format: ${r.stderr.trim() || r.error?.message}`);
  // Non-finite values come as the strings NaN, Infinity, -Infinity.
  const out = JSON.parse(r.stdout, (key, value) =>
    (key === 'value' || key === 'sum') && typeof value === 'string' ? Number(value) : value,
  ) as {
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
  promqlBinary ??= goBuilt('test/tools/promql/build.sh');
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
      return m.type === '='
        ? value === m.value
        : m.type === '!='
          ? value !== m.value
          : m.type === '=~'
            ? re().test(value)
            : !re().test(value);
    }),
  );
}
