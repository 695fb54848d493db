// The injected spiced: a native sidecar (an init container with
// restartPolicy Always, Kubernetes >= 1.29) so it starts before the app
// containers, is stopped after them, and does not keep a Job's Pod alive.
// The README's "Sidecar injection" section has the reasoning.
import {
  DEFAULT_PROBE,
  HEALTH_PATH,
  NOBODY,
  READY_PATH,
  SPICED_BINARY,
  SPICED_WORKING_DIR,
  containerSecurityContext,
  spicedArgs,
  spicepodMount,
  spicepodVolume,
  type SpicedPorts,
} from '../../core/manifests/spiced.ts';
import { PORT_ANNOTATIONS, type SidecarSettings } from './annotations.ts';
import { ANNOTATION_SIDECAR_INJECTED } from '../../core/annotations.ts';

export const SIDECAR_CONTAINER = 'spice-sidecar';
export const SIDECAR_VOLUME = 'spice-sidecar-spicepod';
export const SIDECAR_PORT_NAMES: Record<keyof SpicedPorts, string> = {
  http: 'spice-http',
  flight: 'spice-flight',
  metrics: 'spice-metrics',
};
/**
 * The kubelet starts the app containers once this passes (native sidecar
 * semantics): spiced's HTTP API answers, though datasets may still load
 * (readiness covers that). Up to two minutes before spiced is restarted.
 */
const STARTUP_PROBE = { timeoutSeconds: 1, periodSeconds: 1, failureThreshold: 120 };

export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: string;
}
export interface Container {
  name: string;
  ports?: ContainerPort[];
  [field: string]: unknown;
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [field: string]: unknown }[];
  [field: string]: unknown;
}
export interface PodMeta {
  annotations?: Record<string, string>;
}

export function sidecarContainer(settings: SidecarSettings, telemetryProperties: Record<string, string> = {}) {
  const { ports } = settings;
  return {
    name: SIDECAR_CONTAINER,
    image: settings.image,
    imagePullPolicy: settings.imagePullPolicy,
    command: [SPICED_BINARY],
    args: spicedArgs(ports, telemetryProperties),
    workingDir: SPICED_WORKING_DIR,
    ports: (Object.keys(SIDECAR_PORT_NAMES) as (keyof SpicedPorts)[]).map((k) => ({
      name: SIDECAR_PORT_NAMES[k],
      containerPort: ports[k],
      protocol: 'TCP',
    })),
    volumeMounts: [spicepodMount(SIDECAR_VOLUME)],
    ...(settings.resources ? { resources: settings.resources } : {}),
    startupProbe: { httpGet: { path: HEALTH_PATH, port: ports.http }, ...STARTUP_PROBE },
    livenessProbe: { httpGet: { path: HEALTH_PATH, port: ports.http }, ...DEFAULT_PROBE },
    readinessProbe: { httpGet: { path: READY_PATH, port: ports.http }, ...DEFAULT_PROBE },
    // The Pod's own securityContext belongs to the app; the sidecar carries its own, and
    // an explicit numeric user so runAsNonRoot can be verified for the image's "nobody".
    securityContext: { ...containerSecurityContext(), runAsNonRoot: true, runAsUser: NOBODY, runAsGroup: NOBODY },
    // Native sidecar: an init container that keeps running alongside the app.
    restartPolicy: 'Always',
  };
}

export function sidecarVolume(settings: SidecarSettings) {
  return spicepodVolume(SIDECAR_VOLUME, settings.configMap, settings.key);
}

const isTcp = (p: ContainerPort) => (p.protocol ?? 'TCP') === 'TCP';

function allContainers(spec: PodSpec): { container: Container; init: boolean }[] {
  return [
    ...(spec.initContainers ?? []).map((container) => ({ container, init: true })),
    ...spec.containers.map((container) => ({ container, init: false })),
  ];
}

function describePort(p: ContainerPort, c: { container: Container; init: boolean }): string {
  return `port ${p.containerPort}${p.name ? ` (${JSON.stringify(p.name)})` : ''} of ${c.init ? 'init container' : 'container'} ${JSON.stringify(c.container.name)}`;
}

/**
 * Messages, one per clash, for sidecar ports that a container of the Pod
 * (other than the sidecar itself) already declares over TCP. Every declared
 * port counts, in init containers too: the rule is simple to state and to
 * check. `annotations` (the Pod's) tell a chosen port from a default one.
 */
export function portCollisions(spec: PodSpec, ports: SpicedPorts, annotations: Record<string, string>): string[] {
  const out: string[] = [];
  const containers = allContainers(spec);
  for (const which of Object.keys(PORT_ANNOTATIONS) as (keyof SpicedPorts)[]) {
    const annotation = PORT_ANNOTATIONS[which];
    for (const c of containers) {
      if (c.container.name === SIDECAR_CONTAINER) continue;
      for (const p of c.container.ports ?? []) {
        if (p.containerPort !== ports[which] || !isTcp(p)) continue;
        const source = annotations[annotation] === undefined ? `${annotation} (default ${ports[which]})` : `${annotation} ${ports[which]}`;
        out.push(`${source} collides with ${describePort(p, c)}: set ${annotation} to a port no container of the Pod uses`);
      }
    }
  }
  return out;
}

/** The ports an already injected sidecar declares, by their names; undefined if one is missing. */
export function injectedPorts(sidecar: Container): SpicedPorts | undefined {
  const port = (k: keyof SpicedPorts) => sidecar.ports?.find((p) => p.name === SIDECAR_PORT_NAMES[k])?.containerPort;
  const ports = { http: port('http'), flight: port('flight'), metrics: port('metrics') };
  return ports.http === undefined || ports.flight === undefined || ports.metrics === undefined ? undefined : (ports as SpicedPorts);
}

/** A container or volume of the Pod that already uses one of the sidecar's names. */
export function nameCollisions(spec: PodSpec): string[] {
  const out: string[] = [];
  for (const c of allContainers(spec)) {
    if (c.container.name === SIDECAR_CONTAINER) {
      out.push(
        `the Pod already has ${c.init ? 'an init container' : 'a container'} named ${JSON.stringify(SIDECAR_CONTAINER)}: rename it, the Spice sidecar uses that name`,
      );
    }
  }
  if ((spec.volumes ?? []).some((v) => v.name === SIDECAR_VOLUME)) {
    out.push(`the Pod already has a volume named ${JSON.stringify(SIDECAR_VOLUME)}: rename it, the Spice sidecar uses that name`);
  }
  return out;
}

/** The sidecar's own container in an already injected Pod, if present. */
export function injectedSidecar(spec: PodSpec): Container | undefined {
  return allContainers(spec).find((c) => c.container.name === SIDECAR_CONTAINER)?.container;
}

export interface JsonPatchOp {
  op: 'add';
  path: string;
  value: unknown;
}

/** RFC 6901: "~" and "/" in a key. */
export const pointerToken = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSONPatch that injects the sidecar: appended after the Pod's own init
 * containers (they keep running first, as their authors intended), its
 * Spicepod volume, and the injected mark.
 */
export function injectionPatch(
  meta: PodMeta,
  spec: PodSpec,
  settings: SidecarSettings,
  telemetryProperties?: Record<string, string>,
): JsonPatchOp[] {
  const container = sidecarContainer(settings, telemetryProperties);
  const volume = sidecarVolume(settings);
  const ops: JsonPatchOp[] = [
    Array.isArray(spec.initContainers)
      ? { op: 'add', path: '/spec/initContainers/-', value: container }
      : { op: 'add', path: '/spec/initContainers', value: [container] },
    Array.isArray(spec.volumes)
      ? { op: 'add', path: '/spec/volumes/-', value: volume }
      : { op: 'add', path: '/spec/volumes', value: [volume] },
  ];
  ops.push(
    meta.annotations
      ? { op: 'add', path: `/metadata/annotations/${pointerToken(ANNOTATION_SIDECAR_INJECTED)}`, value: 'true' }
      : { op: 'add', path: '/metadata/annotations', value: { [ANNOTATION_SIDECAR_INJECTED]: 'true' } },
  );
  return ops;
}
