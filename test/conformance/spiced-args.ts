// spiced's command line, as spiced parses it. Every flag below is one the
// runtime declares, with the form of its value, cited from the runtime source
// (spiceai/spiceai, Apache-2.0) at the commit our read returned:
//
//   [lib]    bin/spiced/src/lib.rs, `Args` (clap derive)          @ 00fb288da8ef6f830f2eb522c7750b7361a5043f
//   [config] crates/runtime/src/config.rs, `Config`, `ClusterConfig` @ 0fa20ff5df4320816eb97f89a888b0fef1868d85
//   [repl]   crates/repl/src/lib.rs, `ReplConfig` (flattened into Args) @ 0112d858379b7ea661e191297219e7e811d17530
//   [mod]    crates/runtime/src/cluster/mod.rs, `ResolvedClusterConfig::try_new_with_tls` @ 0116d4504636a9ea7f1eb90300c08feca0df538b
//
// clap (v4) rules that apply to all of them: an unknown flag is an error; an
// option that takes a value takes exactly one (`--flag value` or
// `--flag=value`); a flag that takes none refuses `--flag=value`; an option
// given twice is an error unless it appends (ArgAction::Append or Count).
import { parse as parseYaml } from 'yaml';
import { encodeIpAddress, normalizeDnsName } from '../../core/pki/san.ts';
import { runtimeProblems } from './spicepod-schema.ts';

export type ValueKind =
  /** std::net::SocketAddr: `IPv4:port` or `[IPv6]:port`; an IP, never a host name. */
  | 'socket-address'
  /** `--scheduler-address`: a String that spiced turns into a url::Url ([mod]). */
  | 'scheduler-url'
  /** `--node-advertise-address`: a host name or IP peers dial ([config], [mod]). */
  | 'advertise-host'
  | 'path'
  | 'string'
  /** clap's BoolValueParser: `true` or `false`. */
  | 'bool'
  /** `--set-runtime key.subkey=value` (`parse_set_string` in [lib]). */
  | 'set-runtime'
  | { enum: readonly string[] };

export interface SpicedFlag {
  long: string;
  short?: string;
  /** null: a switch that takes no value. */
  value: ValueKind | null;
  /** May be given more than once (ArgAction::Append / Count). */
  repeatable?: boolean;
  source: string;
}

export const SPICED_FLAGS: readonly SpicedFlag[] = [
  // [lib] Args
  { long: 'metrics', value: 'socket-address', source: '[lib] Args.metrics: Option<SocketAddr>' },
  {
    long: 'open_telemetry',
    value: 'socket-address',
    source: '[lib] Args.open_telemetry_bind_address: SocketAddr (long = "open_telemetry", deprecated, no effect)',
  },
  { long: 'version', value: null, source: '[lib] Args.version: bool' },
  { long: 'repl', value: null, source: '[lib] Args.repl: bool' },
  { long: 'tls-enabled', value: 'bool', source: '[lib] Args.tls_enabled: bool, ArgAction::Set (takes true|false)' },
  { long: 'tls-certificate', value: 'string', source: '[lib] Args.tls_certificate: Option<String> (PEM)' },
  { long: 'tls-certificate-file', value: 'path', source: '[lib] Args.tls_certificate_file: Option<String>' },
  { long: 'tls-key', value: 'string', source: '[lib] Args.tls_key: Option<String> (PEM)' },
  { long: 'tls-key-file', value: 'path', source: '[lib] Args.tls_key_file: Option<String>' },
  { long: 'tls-client-auth-ca-file', value: 'path', source: '[lib] Args.tls_client_auth_ca_file: Option<String>' },
  { long: 'tls-client-auth-ca', value: 'string', source: '[lib] Args.tls_client_auth_ca: Option<String> (PEM)' },
  {
    long: 'tls-client-auth-mode',
    value: { enum: ['none', 'request', 'required'] },
    source: '[lib] Args.tls_client_auth_mode: Option<ClientAuthMode> (ValueEnum, snake_case)',
  },
  { long: 'telemetry-enabled', value: 'bool', source: '[lib] Args.telemetry_enabled: Option<bool>' },
  { long: 'pods-watcher-enabled', value: null, source: '[lib] Args.pods_watcher_enabled: bool, ArgAction::SetTrue' },
  { long: 'token', value: 'string', source: '[lib] Args.token: Option<EnrollmentKeyArg>, conflicts_with = "repl"' },
  { long: 'region', value: 'string', source: '[lib] Args.region: Option<String>, requires = "token"' },
  { long: 'verbose', short: 'v', value: null, repeatable: true, source: '[lib] Args.verbose: u8, ArgAction::Count' },
  { long: 'very-verbose', value: null, source: '[lib] Args.very_verbose: bool' },
  {
    long: 'set-runtime',
    value: 'set-runtime',
    repeatable: true,
    source: '[lib] Args.set_runtime: Vec<(String, String)>, ArgAction::Append, value_parser = parse_set_string',
  },
  { long: 'cpu-cores', value: 'string', source: '[lib] Args.cpu_cores: Option<String> (a CPU quantity, `auto` or `all`)' },
  // [config] Config, flattened into Args as `runtime`
  {
    long: 'http',
    value: 'socket-address',
    source: '[config] Config.http_bind_address: SocketAddr (long = "http", default 127.0.0.1:8090)',
  },
  {
    long: 'flight',
    value: 'socket-address',
    source: '[config] Config.flight_bind_address: SocketAddr (long = "flight", default 127.0.0.1:50051)',
  },
  // [config] ClusterConfig, flattened into Config as `cluster`
  {
    long: 'role',
    value: { enum: ['scheduler', 'executor'] },
    source: '[config] ClusterConfig.role: Option<ClusterRole> ("Configure cluster node role: scheduler or executor")',
  },
  {
    long: 'node-bind-address',
    value: 'socket-address',
    source: '[config] ClusterConfig.node_bind_address: SocketAddr (default 0.0.0.0:50052)',
  },
  { long: 'node-mtls-ca-certificate-file', value: 'path', source: '[config] ClusterConfig.node_mtls_ca_certificate_file: Option<String>' },
  { long: 'node-mtls-certificate-file', value: 'path', source: '[config] ClusterConfig.node_mtls_certificate_file: Option<String>' },
  { long: 'node-mtls-key-file', value: 'path', source: '[config] ClusterConfig.node_mtls_key_file: Option<String>' },
  {
    long: 'allow-insecure-connections',
    value: null,
    source: '[config] ClusterConfig.allow_insecure_connections: bool, ArgAction::SetTrue',
  },
  {
    long: 'scheduler-address',
    value: 'scheduler-url',
    source: '[config] ClusterConfig.scheduler_address: Option<String>, parsed as a URL by [mod]',
  },
  {
    long: 'node-advertise-address',
    value: 'advertise-host',
    source: '[config] ClusterConfig.node_advertise_address: Option<String> (host name or IP)',
  },
  // [repl] ReplConfig, flattened into Args as `repl_config`
  { long: 'repl-flight-endpoint', value: 'string', source: '[repl] ReplConfig.repl_flight_endpoint: String' },
  { long: 'http-endpoint', value: 'string', source: '[repl] ReplConfig.http_endpoint: String' },
  { long: 'tls-root-certificate-file', value: 'path', source: '[repl] ReplConfig.tls_root_certificate_file: Option<String>' },
  { long: 'api-key', value: 'string', source: '[repl] ReplConfig.api_key: Option<String>' },
  { long: 'user-agent', value: 'string', source: '[repl] ReplConfig.user_agent: Option<String>' },
  { long: 'cache-control', value: { enum: ['cache', 'no-cache'] }, source: '[repl] ReplConfig.cache_control: CacheControl (ValueEnum)' },
];

const BY_LONG = new Map(SPICED_FLAGS.map((f) => [f.long, f]));
const BY_SHORT = new Map(SPICED_FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));

/** What a container's environment gives the kubelet to expand `$(NAME)` with. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; [source: string]: unknown };
}

export interface ExpansionContext {
  env?: EnvVar[];
  /** Values of the downward-API fields a `valueFrom.fieldRef` may name (defaults stand in for a pod). */
  fields?: Record<string, string>;
}

const DEFAULT_FIELDS: Record<string, string> = {
  'metadata.name': 'pod-0',
  'metadata.namespace': 'default',
  'status.podIP': '10.0.0.10',
  'spec.nodeName': 'node-1',
};

/**
 * The kubelet's expansion of `$(NAME)` in command and args
 * (k8s.io/kubernetes third_party/forked/golang/expansion): a reference to a
 * variable of the container's env is replaced, `$$` is a literal `$`, and a
 * reference to anything else stays as written.
 */
export function expandKubeletReferences(text: string, vars: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '$' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const next = text[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      out += Object.hasOwn(vars, name) ? vars[name] : text.slice(i, close + 1);
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

/** The variables the kubelet can expand for a container, in env order (a value may use earlier ones). */
export function containerVariables(context: ExpansionContext = {}): Record<string, string> {
  const fields = { ...DEFAULT_FIELDS, ...context.fields };
  const vars: Record<string, string> = {};
  for (const v of context.env ?? []) {
    if (v.value !== undefined) vars[v.name] = expandKubeletReferences(v.value, vars);
    else if (v.valueFrom?.fieldRef && fields[v.valueFrom.fieldRef.fieldPath] !== undefined)
      vars[v.name] = fields[v.valueFrom.fieldRef.fieldPath]!;
  }
  return vars;
}

// ---- value forms ------------------------------------------------------------

/**
 * Rust's `SocketAddr::from_str` (core::net::parser): `a.b.c.d:port` with
 * decimal octets 0-255 and no leading zeros, or `[v6]:port` with an optional
 * numeric `%scope`; the port is a u16. Never a host name: `localhost:50052`
 * is refused.
 */
export function parseSocketAddress(text: string): { ip: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || text[close + 1] !== ':') return undefined;
    host = text.slice(1, close);
    portText = text.slice(close + 2);
    const scope = host.indexOf('%');
    if (scope >= 0) {
      if (!/^[0-9]+$/.test(host.slice(scope + 1)) || Number(host.slice(scope + 1)) > 0xffffffff) return undefined;
      host = host.slice(0, scope);
    }
    if (!host.includes(':')) return undefined;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return undefined;
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) return undefined;
  }
  if (!/^[0-9]+$/.test(portText) || Number(portText) > 65535) return undefined;
  try {
    encodeIpAddress(host);
  } catch {
    return undefined;
  }
  return { ip: host, port: Number(portText) };
}

/** A host name or IP literal as it may stand in `https://HOST:PORT`. */
export function hostProblem(host: string): string | undefined {
  try {
    encodeIpAddress(host);
    return undefined;
  } catch {
    // not an IP: a DNS name then
  }
  try {
    normalizeDnsName(host);
    return host.startsWith('*.') ? 'a wildcard is not a host' : undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * `--scheduler-address` as [mod] resolves it: `http://` or `https://` kept,
 * anything else prefixed with the scheme TLS implies, parsed by the url crate
 * (WHATWG URL rules, as `new URL` applies them), port 50052 when absent.
 */
export function resolveSchedulerUrl(text: string, tls: boolean): URL | undefined {
  const withScheme = text.startsWith('http://') || text.startsWith('https://') ? text : `${tls ? 'https' : 'http'}://${text}`;
  try {
    const url = new URL(withScheme);
    if (!url.port) url.port = '50052';
    return url;
  } catch {
    return undefined;
  }
}

/**
 * `parse_set_string` in [lib]: `s.split('=')` must give exactly two parts, so a
 * value that contains `=` is refused. `apply_override` then walks the key by
 * `.` into the runtime section, and the value is read as YAML
 * (`yaml::from_str(value)`, a plain string when that fails).
 */
export function parseSetRuntime(text: string): { path: string[]; value: unknown } | string {
  const parts = text.split('=');
  if (parts.length !== 2)
    return `${JSON.stringify(text)} is not key=value with exactly one '=' (spiced: "Invalid set format. Use key=value")`;
  const path = parts[0]!.split('.');
  if (path.some((p) => p === '')) return `${JSON.stringify(parts[0])} has an empty key segment`;
  let value: unknown;
  try {
    value = parseYaml(parts[1]!, { schema: 'core', logLevel: 'silent' });
  } catch {
    value = parts[1]!;
  }
  return { path, value };
}

/** `apply_override` in [lib]: inserts the value at the path, creating mappings on the way. */
export function applyRuntimeOverride(runtime: Record<string, unknown>, path: string[], value: unknown): string | undefined {
  let current: Record<string, unknown> = runtime;
  for (let i = 0; i < path.length - 1; i++) {
    const next = current[path[i]!];
    if (next === undefined || next === null) current[path[i]!] = {};
    else if (typeof next !== 'object' || Array.isArray(next))
      return `cannot set ${path.join('.')}: ${path.slice(0, i + 1).join('.')} is not a mapping`;
    current = current[path[i]!] as Record<string, unknown>;
  }
  current[path[path.length - 1]!] = value;
  return undefined;
}

function valueProblem(kind: ValueKind, value: string): string | undefined {
  if (typeof kind === 'object') return kind.enum.includes(value) ? undefined : `must be one of ${kind.enum.join(', ')}`;
  switch (kind) {
    case 'socket-address':
      return parseSocketAddress(value) ? undefined : 'must be a socket address IP:port (an IP address, not a host name; IPv6 in brackets)';
    case 'bool':
      return value === 'true' || value === 'false' ? undefined : 'must be true or false';
    case 'path':
    case 'string':
      return value === '' ? 'must not be empty' : undefined;
    case 'set-runtime': {
      const parsed = parseSetRuntime(value);
      return typeof parsed === 'string' ? parsed : undefined;
    }
    case 'advertise-host': {
      // [mod] strips a port (with a warning) and uses the one of --node-bind-address; we never mean one.
      const colon = value.lastIndexOf(':');
      if (parseSocketAddress(value) || (colon > 0 && !value.slice(0, colon).includes(':') && /^[0-9]+$/.test(value.slice(colon + 1)))) {
        return 'must be a host name or IP without a port (spiced ignores the port and uses the one of --node-bind-address)';
      }
      const problem = hostProblem(value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value);
      return problem ? `must be a host name or IP peers can dial: ${problem}` : undefined;
    }
    case 'scheduler-url':
      return resolveSchedulerUrl(value, true) ? undefined : 'must be a URL (spiced: "Invalid --scheduler-address URL")';
  }
}

// ---- the command line --------------------------------------------------------

export interface ParsedSpicedArgs {
  /** Values of each flag given, in order (a switch has one empty string per use). */
  flags: Map<string, string[]>;
  positionals: string[];
  problems: string[];
}

export const SPICED_BINARY_NAME = 'spiced';

/**
 * Parses a container's command and args as the kubelet passes them (after
 * expanding `$(NAME)`) and as spiced's clap parser reads them. Every problem
 * spiced would refuse at parse time is listed, one line each.
 */
export function checkSpicedArgs(
  command: string[] | undefined,
  args: string[] | undefined,
  context: ExpansionContext = {},
): ParsedSpicedArgs {
  const problems: string[] = [];
  const flags = new Map<string, string[]>();
  const positionals: string[] = [];
  const vars = containerVariables(context);
  const argv = [...(command ?? []), ...(args ?? [])].map((a) => expandKubeletReferences(a, vars));
  const binary = argv.shift();
  if (!binary || binary.split('/').pop() !== SPICED_BINARY_NAME) problems.push(`the command runs ${JSON.stringify(binary)}, not spiced`);
  for (const arg of argv) {
    if (/\$\([^)]*\)/.test(arg))
      problems.push(`${JSON.stringify(arg)} keeps a $(...) reference the kubelet cannot expand (no such variable in the container's env)`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let flag: SpicedFlag | undefined;
    let inline: string | undefined;
    let spelled = arg;
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spelled = `--${name}`;
      flag = BY_LONG.get(name);
    } else if (arg.startsWith('-') && arg.length > 1 && arg !== '-') {
      spelled = arg.slice(0, 2);
      flag = BY_SHORT.get(arg[1]!);
      if (flag && arg.length > 2) {
        // -vv: a repeated short switch.
        if (flag.value === null && [...arg.slice(1)].every((ch) => ch === arg[1])) {
          const seen = flags.get(flag.long) ?? [];
          flags.set(flag.long, [...seen, ...[...arg.slice(1)].map(() => '')]);
          continue;
        }
        inline = arg.slice(2).replace(/^=/, '');
      }
    } else {
      positionals.push(arg);
      continue;
    }
    if (!flag) {
      problems.push(`${spelled} is not a flag spiced accepts`);
      if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) i++;
      continue;
    }
    let value = '';
    if (flag.value === null) {
      if (inline !== undefined) problems.push(`${spelled} takes no value (got ${JSON.stringify(inline)})`);
    } else if (inline !== undefined) {
      value = inline;
    } else if (argv[i + 1] === undefined || (argv[i + 1]!.startsWith('--') && argv[i + 1]!.length > 2)) {
      problems.push(`${spelled} needs a value`);
      continue;
    } else {
      value = argv[++i]!;
    }
    const seen = flags.get(flag.long) ?? [];
    if (seen.length && !flag.repeatable) problems.push(`${spelled} is given more than once (clap: "cannot be used multiple times")`);
    flags.set(flag.long, [...seen, value]);
    if (flag.value !== null) {
      const problem = valueProblem(flag.value, value);
      if (problem) problems.push(`${spelled} ${JSON.stringify(value)}: ${problem}`);
    }
  }
  if (positionals.length > 1)
    problems.push(
      `spiced takes one Spicepod path, got ${positionals.length} positional arguments: ${positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  if (flags.has('region') && !flags.has('token')) problems.push('--region requires --token');
  if (flags.has('token') && flags.has('repl')) problems.push('--token cannot be used with --repl');
  return { flags, positionals, problems };
}

/** The runtime section after `--set-runtime` overrides, and what spiced's schema says of it. */
export function runtimeAfterOverrides(
  baseRuntime: unknown,
  setRuntime: string[],
): { runtime: Record<string, unknown>; problems: string[] } {
  const runtime = structuredClone((baseRuntime ?? {}) as Record<string, unknown>);
  const problems: string[] = [];
  for (const override of setRuntime) {
    const parsed = parseSetRuntime(override);
    // A malformed override is the parser's problem (checkSpicedArgs reports it); spiced never gets here.
    if (typeof parsed === 'string') continue;
    const problem = applyRuntimeOverride(runtime, parsed.path, parsed.value);
    if (problem) problems.push(`--set-runtime ${JSON.stringify(override)}: ${problem}`);
  }
  // [lib] apply_overrides: "The runtime configuration after applying the overrides from `--set-runtime` is invalid."
  problems.push(...runtimeProblems(runtime).map((p) => `after --set-runtime ${setRuntime.map((s) => JSON.stringify(s)).join(' ')}: ${p}`));
  return { runtime, problems };
}
