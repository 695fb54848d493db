// What spiced refuses when it starts, and what a spiced container in a Pod
// needs to be reachable. The first part is spiced's own rules, cited:
//
//   [lib]  bin/spiced/src/lib.rs, `run` and `build_app`                 @ 00fb288da8ef6f830f2eb522c7750b7361a5043f
//   [mod]  crates/runtime/src/cluster/mod.rs, `ResolvedClusterConfig`     @ 0116d4504636a9ea7f1eb90300c08feca0df538b
//   [http] crates/runtime/src/http/mod.rs, `start_health_only`            @ 007885f956c79a13d5ef918f227cbd8bf3997a43
//   [rt]   crates/runtime/src/lib.rs, `start_servers` (an executor starts the Flight server and
//          the health-only HTTP server, nothing else; read at the stored version found by its text)
//
// The second part (ports, probes, mounts) is what a Pod needs so that the
// kubelet, Services and peers reach what spiced serves; each check says so.
import {
  checkSpicedArgs,
  parseSocketAddress,
  resolveSchedulerUrl,
  runtimeAfterOverrides,
  type EnvVar,
  type ParsedSpicedArgs,
} from './spiced-args.ts';
import { spicepodProblems } from './spicepod-schema.ts';

const one = (parsed: ParsedSpicedArgs, flag: string) => parsed.flags.get(flag)?.[0];

export type EffectiveRole = 'scheduler' | 'executor' | undefined;

/** [lib] `is_executor` / [mod] `effective_role`: --scheduler-address without --role means executor. */
export function effectiveRole(parsed: ParsedSpicedArgs): EffectiveRole {
  const role = one(parsed, 'role');
  if (role === 'scheduler' || role === 'executor') return role;
  return parsed.flags.has('scheduler-address') ? 'executor' : undefined;
}

/**
 * Why spiced, started with these arguments and this Spicepod (undefined: none
 * where it looks), would exit instead of serving. Empty: it starts.
 */
export function spicedStartProblems(parsed: ParsedSpicedArgs, spicepod: unknown): string[] {
  const problems: string[] = [];
  const role = effectiveRole(parsed);
  const clusterMode = parsed.flags.has('role') || parsed.flags.has('scheduler-address');

  // [mod] try_new_with_tls: "Cluster mTLS requires all of: --node-mtls-ca-certificate-file, --node-mtls-certificate-file, --node-mtls-key-file"
  const mtls = ['node-mtls-ca-certificate-file', 'node-mtls-certificate-file', 'node-mtls-key-file'].map((f) => parsed.flags.has(f));
  const tls = mtls.every(Boolean);
  if (mtls.some(Boolean) && !tls)
    problems.push('cluster mTLS requires all of --node-mtls-ca-certificate-file, --node-mtls-certificate-file, --node-mtls-key-file');
  if (clusterMode) {
    // [mod]: "Cluster mode requires the following flags: ..."
    if (!tls && !parsed.flags.has('allow-insecure-connections'))
      problems.push('cluster mode requires --node-mtls-* (or --allow-insecure-connections)');
    if (!parsed.flags.has('node-advertise-address')) problems.push('cluster mode requires --node-advertise-address');
    const scheduler = one(parsed, 'scheduler-address');
    // [mod]: "Invalid --scheduler-address URL: ..."
    if (scheduler !== undefined && !resolveSchedulerUrl(scheduler, tls))
      problems.push(`--scheduler-address ${JSON.stringify(scheduler)} is not a URL`);
  }

  // [lib] build_app: an executor loads no Spicepod unless a path is given, and then only its runtime section.
  const readsSpicepod = role !== 'executor' || parsed.positionals.length > 0;
  if (readsSpicepod && role !== 'executor') {
    if (spicepod === undefined) {
      // [lib] build_app: "In normal mode, fail immediately if spicepod cannot be loaded"
      if (!parsed.flags.has('pods-watcher-enabled'))
        problems.push('no Spicepod where spiced reads it (the positional path, else ./spicepod.yaml of the working directory)');
    } else {
      problems.push(...spicepodProblems(spicepod));
    }
  }
  // [lib] run: "Scheduler mode requires `runtime.scheduler.state_location` to be configured in the spicepod."
  // The check is `app.runtime.scheduler.is_some()`; the schema makes state_location required inside it.
  if (role === 'scheduler') {
    const runtime = (spicepod as { runtime?: { scheduler?: unknown } } | undefined)?.runtime;
    if (runtime?.scheduler === undefined || runtime.scheduler === null) {
      problems.push('a scheduler refuses to start without runtime.scheduler.state_location in its Spicepod');
    }
  }
  // [lib] apply_overrides: every --set-runtime must leave a valid runtime section.
  const setRuntime = parsed.flags.get('set-runtime') ?? [];
  if (setRuntime.length) {
    const base = role === 'executor' ? {} : ((spicepod as { runtime?: unknown } | undefined)?.runtime ?? {});
    problems.push(...runtimeAfterOverrides(base, setRuntime).problems);
  }
  return problems;
}

// ---- a spiced container in a Pod -------------------------------------------------

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  [field: string]: unknown;
}

export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  workingDir?: string;
  ports?: ContainerPort[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  [field: string]: unknown;
}

export interface Volume {
  name: string;
  secret?: { secretName: string; [field: string]: unknown };
  configMap?: { name: string; items?: { key: string; path: string }[]; [field: string]: unknown };
  [field: string]: unknown;
}

export interface SpicedContainerInput {
  container: Container;
  volumes: Volume[];
  /** The Spicepod in the ConfigMap the container mounts (when it mounts one). */
  spicepod?: unknown;
  /** Downward-API values for `valueFrom.fieldRef` (metadata.name, ...). */
  fields?: Record<string, string>;
}

/** The paths [http] serves: a full runtime, or an executor's health-only server. */
export const SERVED_HTTP_PATHS = { full: ['/health', '/v1/ready'], executor: ['/health'] } as const;

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

function mountedAt(container: Container, path: string) {
  return (container.volumeMounts ?? []).filter(
    (m) => path === m.mountPath || path.startsWith(m.mountPath.endsWith('/') ? m.mountPath : `${m.mountPath}/`),
  );
}

/**
 * Every problem of a spiced container: its command line by spiced's parser,
 * what spiced refuses at start, and what the Pod needs so that the ports,
 * probes and files spiced uses are the ones the container declares.
 */
export function checkSpicedContainer(input: SpicedContainerInput): string[] {
  const { container } = input;
  const at = (p: string) => `container ${container.name}: ${p}`;
  const parsed = checkSpicedArgs(container.command, container.args, { env: container.env, fields: input.fields });
  const problems = [...parsed.problems];
  const role = effectiveRole(parsed);

  // The Spicepod spiced reads: the positional path, else ./spicepod.yaml ([lib] build_app).
  const workingDir = container.workingDir ?? '/';
  const spicepodPath = parsed.positionals[0] ?? `${workingDir.replace(/\/$/, '')}/spicepod.yaml`;
  const spicepodMounted = mountedAt(container, spicepodPath).length > 0;
  problems.push(...spicedStartProblems(parsed, spicepodMounted ? input.spicepod : undefined));

  // Each listening flag binds a port the container declares, on an address other pods reach.
  const declared = new Map((container.ports ?? []).map((p) => [p.containerPort, p]));
  const listeners: [flag: string, defaultValue: string | undefined][] = [
    ['http', '127.0.0.1:8090'],
    ['flight', '127.0.0.1:50051'],
    ['metrics', undefined],
    ...(role ? ([['node-bind-address', '0.0.0.0:50052']] as [string, string][]) : []),
  ];
  const bound = new Map<string, number>();
  for (const [flag, fallback] of listeners) {
    const value = one(parsed, flag) ?? fallback;
    const address = value === undefined ? undefined : parseSocketAddress(value);
    if (!address) continue;
    bound.set(flag, address.port);
    if (isLoopback(address.ip)) problems.push(`--${flag} ${value} listens on loopback only: nothing outside the container reaches it`);
    if (!declared.has(address.port)) problems.push(`--${flag} listens on ${address.port}, which the container does not declare as a port`);
  }
  for (const port of container.ports ?? []) {
    if (![...bound.values()].includes(port.containerPort))
      problems.push(
        `port ${port.name ?? ''} ${port.containerPort} is declared but spiced listens on none of --http/--flight/--metrics/--node-bind-address there`,
      );
  }

  // HTTP probes reach spiced's HTTP server, on a path it serves.
  const served: readonly string[] = role === 'executor' ? SERVED_HTTP_PATHS.executor : SERVED_HTTP_PATHS.full;
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const get = container[kind]?.httpGet;
    if (!get) continue;
    const port = typeof get.port === 'number' ? get.port : container.ports?.find((p) => p.name === get.port)?.containerPort;
    if (port === undefined) problems.push(`${kind} names port ${JSON.stringify(get.port)}, which the container does not declare`);
    else if (port !== bound.get('http')) problems.push(`${kind} probes port ${port}, but spiced serves HTTP on ${bound.get('http')}`);
    if (!served.includes(get.path ?? '/')) {
      problems.push(
        `${kind} GETs ${get.path}, which ${role === 'executor' ? 'an executor (health-only HTTP server)' : 'spiced'} does not serve (it serves ${served.join(', ')})`,
      );
    }
  }

  // mTLS files come from a mounted Secret.
  for (const flag of ['node-mtls-ca-certificate-file', 'node-mtls-certificate-file', 'node-mtls-key-file']) {
    const path = one(parsed, flag);
    if (path === undefined) continue;
    const mounts = mountedAt(container, path);
    const fromSecret = mounts.some((m) => input.volumes.some((v) => v.name === m.name && v.secret));
    if (!fromSecret) problems.push(`--${flag} ${path} is not inside a mounted Secret volume`);
  }
  return problems.map(at);
}
