// The spice.ai/* annotations' values: their defaults, which annotation sets
// which port and resource, and how one value is read (a port, a quantity, a
// ConfigMap name or key). The decision that reads them all, in order, is
// injection-request.ts. Both documented spellings are accepted: the older
// spice.ai/spicepod-configmap + spice.ai/spicepod-key and the newer
// spice.ai/inject-config + spice.ai/inject-config-key (reference §3).
import { isDns1123Subdomain } from '../../core/spec/kubernetes-names.ts';
import { parseQuantity } from '../../core/manifests/quantity.ts';
import type { SpicedPorts } from '../../core/manifests/spiced.ts';
import { ANNOTATION_HTTP_PORT } from '../../core/annotations.ts';
import { ANNOTATION_FLIGHT_PORT } from '../../core/annotations.ts';
import { ANNOTATION_METRICS_PORT } from '../../core/annotations.ts';
import { ANNOTATION_CPU_REQUEST } from '../../core/annotations.ts';
import { ANNOTATION_MEMORY_REQUEST } from '../../core/annotations.ts';
import { ANNOTATION_CPU_LIMIT } from '../../core/annotations.ts';
import { ANNOTATION_MEMORY_LIMIT } from '../../core/annotations.ts';

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
  if (!Number.isFinite(amount) || amount < 0)
    return `${JSON.stringify(value)} is not a Kubernetes quantity (e.g. 250m or 1 for CPU, 512Mi or 2Gi for memory)`;
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

const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

export const isConfigMapName = isDns1123Subdomain;
export const isConfigMapKey = (s: string) => s.length <= 253 && CONFIGMAP_KEY.test(s) && s !== '.' && s !== '..';

const quote = (s: string) => JSON.stringify(s);

export function parsePort(annotation: string, raw: string): { port?: number; error?: string } {
  const value = raw.trim();
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    return { error: `${annotation}: ${quote(raw)} is not a port number: set it to a whole number from 1 to 65535` };
  }
  return { port };
}

export { PORT_ANNOTATIONS };
