// The pod template of a SpicepodSet: spiced with the mounted Spicepod,
// probes on the HTTP port, and the user's scheduling, resources and env.
import { LABEL_APP } from '../labels.ts';
import type { HandlerConfig } from '../handler.ts';
import type { SpicepodSetSpec } from '../spec/spicepodset.ts';
import { NODE_TLS_VOLUME, SPICEPOD_VOLUME, TLS_MOUNT, commonLabels, names, withoutReserved } from './names.ts';
import { claimMounts } from './volumes.ts';
import {
  DEFAULT_PROBE,
  HEALTH_PATH,
  NOBODY,
  READY_PATH,
  SPICED_BINARY,
  SPICED_WORKING_DIR,
  containerSecurityContext,
  spicedArgs as listenArgs,
  spicepodMount,
  spicepodVolume,
} from './spiced.ts';
import { CLUSTER_PORT, CLUSTER_PORT_NAME } from '../spec/network.ts';
import { clusterNodePort } from '../spec/cluster-node.ts';
import { ANNOTATION_SPICEPOD_CHECKSUM } from '../annotations.ts';

export const CONTAINER_NAME = 'spiced';
/** The internal cluster port (defined with the spec rules that reserve it). */
export { CLUSTER_PORT };
export { TLS_MOUNT };

/**
 * A cluster node's own certificate (mTLS on): its Secret mounted at TLS_MOUNT. The mount is
 * the same on every replica, so it is in the set's template and its revision; the volume
 * names each replica's Secret (`secretName`), so it is added when a replica's template is
 * rendered. Both come from here.
 */
export function nodeTls(
  spec: SpicepodSetSpec,
  secretName?: string,
): { mounts: Record<string, unknown>[]; volumes: Record<string, unknown>[] } {
  if (!spec.cluster || spec.cluster.allowInsecureConnections) return { mounts: [], volumes: [] };
  return {
    mounts: [{ name: NODE_TLS_VOLUME, mountPath: TLS_MOUNT, readOnly: true }],
    volumes: secretName ? [{ name: NODE_TLS_VOLUME, secret: { secretName, defaultMode: 0o400 } }] : [],
  };
}

export function imageRef(spec: SpicepodSetSpec): string {
  const { registry, name, tag } = spec.image;
  const repository = registry ? `${registry.replace(/\/+$/, '')}/${name}` : name;
  return `${repository}:${tag}`;
}

/** The stable DNS name of a StatefulSet pod under the set's headless Service. */
export function podDnsName(set: string, namespace: string, podName: string, clusterDomain: string): string {
  return `${podName}.${names.headlessService(set)}.${namespace}.svc.${clusterDomain}`;
}

export function headlessServiceDnsName(set: string, namespace: string, clusterDomain: string): string {
  return `${names.headlessService(set)}.${namespace}.svc.${clusterDomain}`;
}

function spicedArgs(set: string, namespace: string, spec: SpicepodSetSpec, config: HandlerConfig): string[] {
  const args = listenArgs({ http: spec.httpPort, flight: spec.flightPort, metrics: spec.metricsPort }, config.telemetryProperties);
  const cluster = spec.cluster;
  if (cluster) {
    args.push('--role', cluster.role);
    args.push('--node-bind-address', cluster.bindAddress ?? `0.0.0.0:${CLUSTER_PORT}`);
    // $(POD_NAME) is expanded by the kubelet, so every replica advertises its own stable name.
    args.push('--node-advertise-address', cluster.advertiseAddress ?? podDnsName(set, namespace, '$(POD_NAME)', config.clusterDomain));
    if (cluster.role === 'executor' && cluster.schedulerAddress) args.push('--scheduler-address', cluster.schedulerAddress);
    if (cluster.allowInsecureConnections) {
      args.push('--allow-insecure-connections');
    } else {
      args.push(
        '--node-mtls-ca-certificate-file',
        `${TLS_MOUNT}/ca.crt`,
        '--node-mtls-certificate-file',
        `${TLS_MOUNT}/tls.crt`,
        '--node-mtls-key-file',
        `${TLS_MOUNT}/tls.key`,
      );
    }
  }
  return args;
}

/**
 * An executor's HTTP server answers /health only (crates/runtime/src/http/mod.rs
 * `start_health_only`, spiceai/spiceai @ 007885f9): it gets no readiness probe,
 * and a liveness probe only when the spec asks for one (older images serve no
 * HTTP at all on executors).
 */
export const hasHttpProbes = (spec: SpicepodSetSpec) => spec.cluster?.role !== 'executor';

function httpProbes(spec: SpicepodSetSpec) {
  const liveness = { httpGet: { path: HEALTH_PATH, port: 'http' }, ...DEFAULT_PROBE, ...spec.probes?.liveness };
  if (!hasHttpProbes(spec)) return spec.probes?.liveness ? { livenessProbe: liveness } : {};
  return {
    livenessProbe: liveness,
    readinessProbe: { httpGet: { path: READY_PATH, port: 'http' }, ...DEFAULT_PROBE, ...spec.probes?.readiness },
  };
}

export interface PodTemplateInput {
  set: string;
  namespace: string;
  spec: SpicepodSetSpec;
  config: HandlerConfig;
  spicepodChecksum: string;
  /** Labels the workload selects on, added to the pod labels. */
  selectorLabels: Record<string, string>;
}

export function podTemplate({ set, namespace, spec, config, spicepodChecksum, selectorLabels }: PodTemplateInput) {
  const probes = httpProbes(spec);
  const volumeMounts: Record<string, unknown>[] = [spicepodMount(SPICEPOD_VOLUME), ...claimMounts(spec)];
  volumeMounts.push(...nodeTls(spec).mounts);
  const ports = [
    { name: 'http', containerPort: spec.httpPort, protocol: 'TCP' },
    { name: 'flight', containerPort: spec.flightPort, protocol: 'TCP' },
    { name: 'metrics', containerPort: spec.metricsPort, protocol: 'TCP' },
  ];
  if (spec.cluster) ports.push({ name: CLUSTER_PORT_NAME, containerPort: clusterNodePort(spec.cluster), protocol: 'TCP' });
  const env: Record<string, unknown>[] = [...(spec.env ?? [])];
  if (spec.cluster) env.push({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  const affinity =
    spec.nodeAffinity || spec.podAntiAffinity ? { nodeAffinity: spec.nodeAffinity, podAntiAffinity: spec.podAntiAffinity } : undefined;
  return {
    metadata: {
      labels: { ...commonLabels(set, spec), ...selectorLabels } as Record<string, string>,
      annotations: { ...withoutReserved(spec.annotations), [ANNOTATION_SPICEPOD_CHECKSUM]: spicepodChecksum } as Record<string, string>,
    },
    spec: {
      serviceAccountName: spec.serviceAccount.enabled ? names.serviceAccount(set, spec) : undefined,
      imagePullSecrets: spec.image.pullSecret ? [{ name: spec.image.pullSecret }] : undefined,
      // The restricted Pod Security Standard: non-root, and the runtime's default seccomp profile.
      securityContext: {
        runAsNonRoot: true,
        runAsUser: NOBODY,
        runAsGroup: NOBODY,
        fsGroup: NOBODY,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: CONTAINER_NAME,
          image: imageRef(spec),
          imagePullPolicy: spec.image.pullPolicy,
          command: [SPICED_BINARY],
          args: spicedArgs(set, namespace, spec, config),
          workingDir: SPICED_WORKING_DIR,
          ports,
          env: env.length ? env : undefined,
          envFrom: spec.envFromSource,
          resources: spec.resources,
          volumeMounts,
          securityContext: containerSecurityContext(),
          ...probes,
        },
      ],
      volumes: [spicepodVolume(SPICEPOD_VOLUME, names.configMap(set))] as Record<string, unknown>[],
      nodeSelector: spec.nodeSelector,
      affinity,
      tolerations: spec.tolerations,
      topologySpreadConstraints: spec.topologySpreadConstraints?.map((c) => ({
        ...c,
        labelSelector: c.labelSelector ?? { matchLabels: { [LABEL_APP]: set } },
      })),
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds,
      dnsPolicy: spec.network?.dnsPolicy,
      dnsConfig: spec.network?.dnsConfig,
    },
  };
}

export type PodTemplate = ReturnType<typeof podTemplate>;
