// What every spiced container the operator writes has in common, whether it
// is the main container of a SpicepodSet pod or a sidecar injected into a
// user's Pod: the binary, its listen flags, the Spicepod mount, the probe
// paths and the locked-down security context.
import { parse as parseYaml } from 'yaml';
import { SPICEPOD_KEY } from './names.ts';

export const SPICED_BINARY = '/usr/local/bin/spiced';
/** spiced reads ./spicepod.yaml from its working directory. */
export const SPICED_WORKING_DIR = '/app';
/** The spiced image runs as nobody (reference §6). */
export const NOBODY = 65534;
/** Liveness: the process serves HTTP. */
export const HEALTH_PATH = '/health';
/** Readiness: the Spicepod is loaded and datasets are ready. */
export const READY_PATH = '/v1/ready';
/** Probe timings when the user gives none: the Spice Helm chart's (reference §1.11). */
export const DEFAULT_PROBE = { timeoutSeconds: 1, periodSeconds: 10, failureThreshold: 3 };

export interface SpicedPorts {
  http: number;
  flight: number;
  metrics: number;
}

/**
 * Why a telemetry property key cannot reach spiced, or undefined. spiced splits
 * `--set-runtime KEY.PATH=VALUE` at every `=` (exactly two parts allowed) and
 * walks the key by `.` (bin/spiced/src/lib.rs `parse_set_string`,
 * `apply_override`), so a key with either would not name one property.
 */
export function telemetryPropertyKeyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (key.includes('=') || key.includes('.'))
    return "may not contain '=' or '.': spiced reads --set-runtime telemetry.properties.KEY=VALUE with KEY as one path segment";
  return undefined;
}

/**
 * A property value as `--set-runtime` must spell it for spiced to read back
 * exactly this string. spiced reads the value as YAML (`yaml::from_str`, a
 * plain string only when that fails) into `runtime.telemetry.properties`, a
 * map of strings, and refuses a value with `=` in it: `42`, `true` or an empty
 * value would become a number, a boolean or null and spiced would not start.
 * Such values go as a YAML double-quoted string, with `=` escaped as `\x3D`;
 * every other value is passed as it is.
 */
export function setRuntimeValue(value: string): string {
  let readsAsItself = false;
  try {
    readsAsItself = parseYaml(value, { schema: 'core', logLevel: 'silent' }) === value;
  } catch {
    readsAsItself = false;
  }
  if (readsAsItself && !value.includes('=')) return value;
  return JSON.stringify(value).replaceAll('=', '\\x3D');
}

/** `--http/--flight/--metrics` on all interfaces, then one `--set-runtime` per telemetry property (sorted). */
export function spicedArgs(ports: SpicedPorts, telemetryProperties: Record<string, string> = {}): string[] {
  const args = ['--http', `0.0.0.0:${ports.http}`, '--flight', `0.0.0.0:${ports.flight}`, '--metrics', `0.0.0.0:${ports.metrics}`];
  for (const [key, value] of Object.entries(telemetryProperties).sort()) {
    args.push('--set-runtime', `telemetry.properties.${key}=${setRuntimeValue(value)}`);
  }
  return args;
}

/**
 * The Spicepod file mounted alone (subPath) at /app/spicepod.yaml, so the
 * rest of the working directory stays the image's and writable.
 */
export function spicepodMount(volume: string) {
  return { name: volume, mountPath: `${SPICED_WORKING_DIR}/${SPICEPOD_KEY}`, subPath: SPICEPOD_KEY, readOnly: true };
}

/** A ConfigMap volume exposing `key` as spicepod.yaml. */
export function spicepodVolume(volume: string, configMap: string, key: string = SPICEPOD_KEY) {
  return { name: volume, configMap: { name: configMap, items: [{ key, path: SPICEPOD_KEY }] } };
}

/**
 * What the `restricted` Pod Security Standard asks of every container, so a
 * spiced container never makes a Pod inadmissible in a namespace enforcing it:
 * no privilege escalation, every capability dropped, the runtime's default
 * seccomp profile (set on the container, so an injected sidecar complies even
 * when the Pod sets none). Non-root is set where the user is known (the Pod of
 * a set; the sidecar itself). A fresh object per call: manifests are plain
 * data that callers may extend.
 */
export function containerSecurityContext(): {
  allowPrivilegeEscalation: boolean;
  capabilities: { drop: string[] };
  seccompProfile: { type: string };
  [field: string]: unknown;
} {
  return { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
}
