// Reading a Pod's spice.ai/* annotations into what to inject, or into the
// reason not to. Both documented spellings are accepted: the older
// spice.ai/spicepod-configmap + spice.ai/spicepod-key and the newer
// spice.ai/inject-config + spice.ai/inject-config-key (reference §3).
// Every denial names the annotation, the value and the fix.
import { PULL_POLICIES } from '../../core/spec/kubernetes.ts';
import { isDns1123Subdomain } from '../../core/spec/kubernetes-names.ts';
import { SPICEPOD_KEY } from '../../core/manifests/names.ts';
import { parseQuantity } from '../../core/manifests/quantity.ts';
import type { SpicedPorts } from '../../core/manifests/spiced.ts';
import { ANNOTATION_INJECT } from '../../core/annotations.ts';
import { ANNOTATION_CONFIGMAP } from '../../core/annotations.ts';
import { ANNOTATION_INJECT_CONFIG } from '../../core/annotations.ts';
import { ANNOTATION_KEY } from '../../core/annotations.ts';
import { ANNOTATION_INJECT_CONFIG_KEY } from '../../core/annotations.ts';
import { ANNOTATION_IMAGE } from '../../core/annotations.ts';
import { ANNOTATION_IMAGE_PULL_POLICY } from '../../core/annotations.ts';
import { ANNOTATION_HTTP_PORT } from '../../core/annotations.ts';
import { ANNOTATION_FLIGHT_PORT } from '../../core/annotations.ts';
import { ANNOTATION_METRICS_PORT } from '../../core/annotations.ts';
import { ANNOTATION_CPU_REQUEST } from '../../core/annotations.ts';
import { ANNOTATION_MEMORY_REQUEST } from '../../core/annotations.ts';
import { ANNOTATION_CPU_LIMIT } from '../../core/annotations.ts';
import { ANNOTATION_MEMORY_LIMIT } from '../../core/annotations.ts';
import { LABEL_INJECT_REQUIRED } from '../../core/labels.ts';

export const DEFAULT_PORTS: SpicedPorts = { http: 18090, flight: 15051, metrics: 19090 };

const PORT_ANNOTATIONS: Record<keyof SpicedPorts, string> = {
  http: ANNOTATION_HTTP_PORT,
  flight: ANNOTATION_FLIGHT_PORT,
  metrics: ANNOTATION_METRICS_PORT,
};

/** The sidecar's resources, as a container's `resources` (only what is set). */
export interface SidecarResources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}
/** Each resource setting: its annotation, and its `run` flag (the operator-wide default). */
export const RESOURCE_SETTINGS: { bound: 'requests' | 'limits'; resource: 'cpu' | 'memory'; annotation: string; flag: string }[] = [
  { bound: 'requests', resource: 'cpu', annotation: ANNOTATION_CPU_REQUEST, flag: 'sidecar-default-cpu-request' },
  { bound: 'requests', resource: 'memory', annotation: ANNOTATION_MEMORY_REQUEST, flag: 'sidecar-default-memory-request' },
  { bound: 'limits', resource: 'cpu', annotation: ANNOTATION_CPU_LIMIT, flag: 'sidecar-default-cpu-limit' },
  { bound: 'limits', resource: 'memory', annotation: ANNOTATION_MEMORY_LIMIT, flag: 'sidecar-default-memory-limit' },
];

/** Why `value` cannot be a container's CPU or memory amount, or undefined if it can. */
export function resourceQuantityError(value: string): string | undefined {
  let amount: number;
  try {
    amount = parseQuantity(value);
  } catch {
    amount = NaN;
  }
  if (!Number.isFinite(amount) || amount < 0) return `${JSON.stringify(value)} is not a Kubernetes quantity (e.g. 250m or 1 for CPU, 512Mi or 2Gi for memory)`;
  return undefined;
}

/** The first resource whose request is above its limit, if any. */
export function requestAboveLimit(resources: SidecarResources): { resource: 'cpu' | 'memory'; request: string; limit: string } | undefined {
  for (const resource of ['cpu', 'memory'] as const) {
    const request = resources.requests?.[resource];
    const limit = resources.limits?.[resource];
    if (request !== undefined && limit !== undefined && parseQuantity(request) > parseQuantity(limit)) return { resource, request, limit };
  }
  return undefined;
}

export interface InjectionDefaults {
  image: string;
  imagePullPolicy: string;
  /** Resources of every sidecar (`run --sidecar-default-cpu-request...`); annotations override each value. */
  resources?: SidecarResources;
}

export interface SidecarSettings {
  configMap: string;
  key: string;
  image: string;
  imagePullPolicy: string;
  ports: SpicedPorts;
  /** Absent when nothing is set: the sidecar then has no `resources`. */
  resources?: SidecarResources;
}

export type InjectionDecision =
  | { kind: 'skip'; reason: string }
  | { kind: 'deny'; message: string }
  | { kind: 'inject'; settings: SidecarSettings };

const ENABLED = new Set(['true', 'enabled']);
const DISABLED = new Set(['false', 'disabled']);
/**
 * Valid ConfigMap names that are far more likely a boolean meant some other
 * way than a ConfigMap: refused with a hint instead of a "ConfigMap yes not found".
 */
const BOOLEAN_LOOKALIKES = new Set(['yes', 'no', 'on', 'off', 'y', 'n', '1', '0', 'enable', 'disable']);
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

export const isConfigMapName = isDns1123Subdomain;
export const isConfigMapKey = (s: string) => s.length <= 253 && CONFIGMAP_KEY.test(s) && s !== '.' && s !== '..';

const quote = (s: string) => JSON.stringify(s);

/** Reads the value of one of two equivalent annotations; both set and different is an error. */
function either(annotations: Record<string, string>, older: string, newer: string): { value?: string; from?: string; error?: string } {
  const a = annotations[older];
  const b = annotations[newer];
  if (a !== undefined && b !== undefined && a.trim() !== b.trim()) {
    return { error: `${older} is ${quote(a)} but ${newer} is ${quote(b)}: they mean the same thing, keep one of them` };
  }
  if (a !== undefined) return { value: a.trim(), from: older };
  if (b !== undefined) return { value: b.trim(), from: newer };
  return {};
}

export function parsePort(annotation: string, raw: string): { port?: number; error?: string } {
  const value = raw.trim();
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    return { error: `${annotation}: ${quote(raw)} is not a port number: set it to a whole number from 1 to 65535` };
  }
  return { port };
}

/**
 * What the annotations ask for. `defaults` are the operator-wide image and
 * pull policy (`run --sidecar-default-image...`); annotations override them.
 */
export function readInjectionRequest(
  annotations: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
  defaults: InjectionDefaults,
): InjectionDecision {
  const a = annotations ?? {};
  const required = labels?.[LABEL_INJECT_REQUIRED] === 'true';
  const raw = a[ANNOTATION_INJECT];
  const notRequested = (reason: string): InjectionDecision =>
    required
      ? {
          kind: 'deny',
          message: `the label ${LABEL_INJECT_REQUIRED}=true requires a Spice sidecar, but ${reason}: set ${ANNOTATION_INJECT} to "true" (with ${ANNOTATION_CONFIGMAP}) or to the name of the ConfigMap holding your spicepod.yaml, or remove the label`,
        }
      : { kind: 'skip', reason };
  if (raw === undefined) return notRequested(`the Pod has no ${ANNOTATION_INJECT} annotation`);

  const value = raw.trim();
  const lower = value.toLowerCase();
  if (DISABLED.has(lower)) return notRequested(`${ANNOTATION_INJECT} is ${quote(raw)}`);

  let shorthand: string | undefined;
  if (!ENABLED.has(lower)) {
    if (BOOLEAN_LOOKALIKES.has(lower) || !isConfigMapName(value)) {
      return {
        kind: 'deny',
        message: `${ANNOTATION_INJECT}: ${quote(raw)} is not a recognised value: use "true" or "enabled" (with ${ANNOTATION_CONFIGMAP}), "false" or "disabled", or the name of the ConfigMap that holds your spicepod.yaml`,
      };
    }
    shorthand = value;
  }

  const named = either(a, ANNOTATION_CONFIGMAP, ANNOTATION_INJECT_CONFIG);
  if (named.error) return { kind: 'deny', message: named.error };
  if (shorthand !== undefined && named.value !== undefined && named.value !== shorthand) {
    return {
      kind: 'deny',
      message: `${ANNOTATION_INJECT} names the ConfigMap ${quote(shorthand)} but ${named.from} names ${quote(named.value)}: set ${ANNOTATION_INJECT} to "true" and keep ${named.from}, or remove ${named.from}`,
    };
  }
  const configMap = shorthand ?? named.value;
  if (configMap === undefined) {
    return {
      kind: 'deny',
      message: `${ANNOTATION_INJECT} is ${quote(raw)} but no ConfigMap is named: set ${ANNOTATION_CONFIGMAP} (or ${ANNOTATION_INJECT_CONFIG}) to the ConfigMap holding your spicepod.yaml, or set ${ANNOTATION_INJECT} to that ConfigMap's name`,
    };
  }
  if (!isConfigMapName(configMap)) {
    return {
      kind: 'deny',
      message: `${named.from}: ${quote(configMap)} is not a valid ConfigMap name: use lower-case letters, digits, '-' and '.' (at most 253 characters)`,
    };
  }

  const keyed = either(a, ANNOTATION_KEY, ANNOTATION_INJECT_CONFIG_KEY);
  if (keyed.error) return { kind: 'deny', message: keyed.error };
  const key = keyed.value ?? SPICEPOD_KEY;
  if (!isConfigMapKey(key)) {
    return {
      kind: 'deny',
      message: `${keyed.from}: ${quote(key)} is not a valid ConfigMap key: use letters, digits, '-', '_' and '.' (default ${SPICEPOD_KEY})`,
    };
  }

  const image = a[ANNOTATION_IMAGE] !== undefined ? a[ANNOTATION_IMAGE].trim() : defaults.image;
  if (!image || /\s/.test(image)) {
    return { kind: 'deny', message: `${ANNOTATION_IMAGE}: ${quote(a[ANNOTATION_IMAGE] ?? '')} is not an image reference: set it to e.g. spiceai/spiceai:latest-models, or remove it to use the operator's default (${defaults.image})` };
  }
  const imagePullPolicy = a[ANNOTATION_IMAGE_PULL_POLICY] !== undefined ? a[ANNOTATION_IMAGE_PULL_POLICY].trim() : defaults.imagePullPolicy;
  if (!(PULL_POLICIES as readonly string[]).includes(imagePullPolicy)) {
    return {
      kind: 'deny',
      message: `${ANNOTATION_IMAGE_PULL_POLICY}: ${quote(imagePullPolicy)} is not a pull policy: use ${PULL_POLICIES.join(', ')} (case matters), or remove it to use the operator's default (${defaults.imagePullPolicy})`,
    };
  }

  const ports = { ...DEFAULT_PORTS };
  for (const which of Object.keys(PORT_ANNOTATIONS) as (keyof SpicedPorts)[]) {
    const v = a[PORT_ANNOTATIONS[which]];
    if (v === undefined) continue;
    const parsed = parsePort(PORT_ANNOTATIONS[which], v);
    if (parsed.error) return { kind: 'deny', message: parsed.error };
    ports[which] = parsed.port!;
  }
  const order = Object.keys(PORT_ANNOTATIONS) as (keyof SpicedPorts)[];
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) {
      if (ports[order[i]!] === ports[order[j]!]) {
        const name = (k: keyof SpicedPorts) => `${PORT_ANNOTATIONS[k]}${a[PORT_ANNOTATIONS[k]] === undefined ? ' (by default)' : ''}`;
        return {
          kind: 'deny',
          message: `${name(order[i]!)} and ${name(order[j]!)} are both ${ports[order[i]!]}: the sidecar needs three different ports, change one of them`,
        };
      }
    }
  }

  const resources: SidecarResources = {};
  const fromAnnotation = new Set<string>();
  for (const { bound, resource, annotation } of RESOURCE_SETTINGS) {
    const raw = a[annotation];
    const value = raw !== undefined ? raw.trim() : defaults.resources?.[bound]?.[resource];
    if (value === undefined) continue;
    if (raw !== undefined) {
      const error = resourceQuantityError(value);
      if (error) return { kind: 'deny', message: `${annotation}: ${error}, or remove it${defaults.resources?.[bound]?.[resource] ? ` to use the operator's default (${defaults.resources[bound]![resource]})` : ''}` };
      fromAnnotation.add(annotation);
    }
    (resources[bound] ??= {})[resource] = value;
  }
  const tooHigh = requestAboveLimit(resources);
  if (tooHigh) {
    const [request, limit] = (['requests', 'limits'] as const).map((bound) => RESOURCE_SETTINGS.find((r) => r.bound === bound && r.resource === tooHigh.resource)!);
    const source = (r: (typeof RESOURCE_SETTINGS)[number]) => (fromAnnotation.has(r.annotation) ? r.annotation : `the operator's default, --${r.flag}`);
    return {
      kind: 'deny',
      message: `the sidecar's ${tooHigh.resource} request ${tooHigh.request} (${source(request!)}) is above its limit ${tooHigh.limit} (${source(limit!)}): lower ${request!.annotation} or raise ${limit!.annotation}`,
    };
  }

  return { kind: 'inject', settings: { configMap, key, image, imagePullPolicy, ports, ...(resources.requests || resources.limits ? { resources } : {}) } };
}

export { PORT_ANNOTATIONS };
