// The SpicepodSet (spice.ai/v1) schema: the single source of the CRD, the
// JSON schema and the handlers' types. Field names follow the camelCase
// generation of the v1 API; the older snake_case spelling is admitted by
// `legacySpicepodSetFields` and folded in by `normalizeSpicepodSetSpec`.
import { z } from 'zod';
import { VOLUME_EXCLUSIVE_RULE, volumeFields } from './volumes.ts';
import {
  PULL_POLICIES,
  conditions,
  dnsPolicy,
  envFromSource,
  envVar,
  intOrPercent,
  networkPolicyEgressRule,
  networkPolicyIngressRule,
  nodeAffinity,
  podAntiAffinity,
  podDNSConfig,
  port,
  probeTimings,
  quantity,
  resourceRequirements,
  stringMap,
  toleration,
  topologySpreadConstraint,
} from './kubernetes.ts';

export const UPDATE_STRATEGIES = ['RollingOrdered', 'RollingParallel', 'Parallel', 'BlueGreen'] as const;
export const CLUSTER_ROLES = ['scheduler', 'executor'] as const;

export const DEFAULT_PORTS = { httpPort: 8090, flightPort: 50051, metricsPort: 9090 } as const;
export const DEFAULT_IMAGE = { registry: 'docker.io', name: 'spiceai/spiceai', tag: 'latest-models' } as const;
export const DEFAULT_RETENTION_SECONDS = 900;

/** The Spicepod itself: free-form, kept as given. A YAML string is accepted for older manifests. */
export const spicepodField = () =>
  z
    .union([z.record(z.string(), z.unknown()), z.string()])
    .meta({ 'x-kubernetes-preserve-unknown-fields': true })
    .describe(
      'The Spicepod (spicepod.yaml) to run, as an object kept as given. A YAML string is also accepted, as older manifests write it. Stored in a ConfigMap and mounted into the pods; a change rolls the pods.',
    );

/** How the spiced image is pulled: the same fields in every version's image. */
export const imagePullFields = {
  pullPolicy: z
    .enum(PULL_POLICIES)
    .optional()
    .describe('Image pull policy: Always, Never or IfNotPresent (default Always for latest tags, else IfNotPresent).'),
  pullSecret: z.string().optional().describe('Name of an image pull Secret in the same namespace.'),
};

export const imageSpec = z
  .object({
    registry: z.string().optional().describe(`Image registry (default ${DEFAULT_IMAGE.registry}, Docker Hub).`),
    name: z.string().default(DEFAULT_IMAGE.name).describe('Image repository name within the registry.'),
    tag: z.string().default(DEFAULT_IMAGE.tag).describe('Image tag; a digest may follow it (tag@sha256:...).'),
    ...imagePullFields,
  })
  .describe('The spiced container image.');

export const volumeSpec = z
  .object({
    storageClassName: z
      .string()
      .optional()
      .describe('StorageClass of the per-replica PersistentVolumeClaims (default: the cluster default).'),
    storageRequests: quantity()
      .optional()
      .describe("Size of each replica's PersistentVolumeClaim, e.g. 10Gi. Raising it resizes existing claims; lowering it has no effect."),
  })
  .describe(
    'Persistent storage: one PersistentVolumeClaim per replica, mounted at /data (the volumeClaimTemplate data). Setting it deploys per-replica StatefulSets. Not with volumeClaimTemplates.',
  );

const legacyVolumeSpec = volumeSpec
  .extend({
    storage_class_name: z.string().optional().describe('Deprecated: use storageClassName.'),
    storage_requests: quantity().optional().describe('Deprecated: use storageRequests.'),
  })
  .describe(volumeSpec.description ?? '');

export const serviceAccountSpec = z
  .object({
    enabled: z.boolean().default(false).describe('Whether the pods run under a dedicated ServiceAccount.'),
    create: z
      .boolean()
      .default(false)
      .describe(
        'Whether the operator creates the ServiceAccount (with a Role and RoleBinding). If false, name must reference an existing one.',
      ),
    name: z.string().optional().describe('ServiceAccount name (default: the SpicepodSet name); required when create is false.'),
    annotations: stringMap('Annotations applied only to the ServiceAccount, e.g. eks.amazonaws.com/role-arn for IRSA.').optional(),
  })
  .describe('ServiceAccount of the pods.');

export const updateStrategySpec = z
  .object({
    type: z
      .enum(UPDATE_STRATEGIES)
      .default('RollingOrdered')
      .describe(
        'RollingOrdered: one replica at a time in ordinal order, each Ready before the next. RollingParallel: in parallel, at most maxUnavailable at once, new and unready replicas first. Parallel: all at once. BlueGreen: a full new generation alongside, traffic switched once it is Ready.',
      ),
    maxUnavailable: intOrPercent()
      .optional()
      .describe('RollingParallel: replicas that may be unavailable at once, a number or a percentage (default 1).'),
    minReadyForCutover: z
      .int32()
      .min(0)
      .optional()
      .describe(
        'BlueGreen: switch traffic once this many new pods are Ready instead of all of them. 0 means unset; values above replicas mean all. Ignored for Parallel.',
      ),
  })
  .describe('How pods are replaced when the spec changes.');

export const instantRollbackSpec = z
  .object({
    enabled: z
      .boolean()
      .default(false)
      .describe('Keep the previous generation as a standby that the annotation spice.ai/rollback=true switches back to at once.'),
    retentionPeriodSeconds: z
      .int32()
      .min(0)
      .default(DEFAULT_RETENTION_SECONDS)
      .describe('How long the standby generation is kept, in seconds (default 900).'),
  })
  .describe('Instant rollback to the previous generation.');

export const networkSpec = z
  .object({
    ingress: z
      .array(networkPolicyIngressRule)
      .optional()
      .describe(
        "NetworkPolicy ingress rules (ports are container ports), written as given; the operator adds ingress from its own namespace on the HTTP port. On cluster nodes port 50052 is reserved for the cluster's pods and a rule without ports covers the public ports.",
      ),
    egress: z
      .array(networkPolicyEgressRule)
      .optional()
      .describe(
        "NetworkPolicy egress rules, written as given; DNS (UDP and TCP 53) is added unless a rule lists port 53, and on cluster nodes egress to the cluster's pods on 50052.",
      ),
    dnsPolicy: dnsPolicy.optional().describe('Pod DNS policy: ClusterFirst, ClusterFirstWithHostNet, Default or None.'),
    dnsConfig: podDNSConfig.optional().describe('Pod DNS configuration (required with dnsPolicy None).'),
  })
  .describe('Network policy and DNS of the pods.');

export const probesSpec = z
  .object({
    liveness: probeTimings.optional().describe('Timings of the liveness probe (GET /health on the HTTP port).'),
    readiness: probeTimings.optional().describe('Timings of the readiness probe (GET /v1/ready on the HTTP port).'),
  })
  .describe('Health probe timings. Probes exist only where the spiced HTTP server runs (not on cluster executors).');

/** Per-node cluster overrides, as a SpicepodCluster's node specs accept them. */
export const nodeClusterConfig = z.object({
  bindAddress: z
    .string()
    // spiced reads it as a std::net::SocketAddr: an IP, never a host name (core/spec/cluster-node.ts checks it exactly).
    .regex(
      /^([0-9]{1,3}(\.[0-9]{1,3}){3}|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$/,
      'must be IP:port (an IP address, not a host name), e.g. 0.0.0.0:50052',
    )
    .optional()
    .describe(
      "IP:port the node's internal cluster port listens on (default 0.0.0.0:50052); an IP address, never a host name. Its port is the node's internal port everywhere: the container port, the headless Service, the NetworkPolicy rules and the port executors dial the scheduler on. Schedulers and executors must use the same port.",
    ),
  advertiseAddress: z
    .string()
    .optional()
    .describe(
      "Host name or IPv4 address peers dial to reach this node, without a port (default: the pod's stable DNS name under the headless Service). $(POD_NAME) stands for the pod's name and is required with more than one replica. Added to the node certificate's SANs.",
    ),
});

/** The cluster role of a SpicepodSet, set by its owning SpicepodCluster. */
export const setClusterConfig = nodeClusterConfig
  .extend({
    role: z.enum(CLUSTER_ROLES).describe('Cluster role of the pods: scheduler or executor.'),
    clusterName: z.string().optional().describe('Name of the SpicepodCluster the set belongs to (labels spice.ai/cluster).'),
    schedulerAddress: z
      .string()
      .optional()
      .describe("Executors: URL of the scheduler's internal port (default: the scheduler set's headless Service)."),
    allowInsecureConnections: z.boolean().default(false).describe('Run the internal port without mTLS (development only).'),
  })
  .describe(
    'Distributed-query cluster role of the pods. Set by a SpicepodCluster on its child sets; setting it deploys per-replica StatefulSets.',
  );

/** Fields a SpicepodSet shares with the node specs of a SpicepodCluster. */
export const workloadFields = {
  replicas: z
    .int32()
    .min(0)
    .default(1)
    .describe('Number of spiced replicas. 0 pauses the workload and keeps its Service, ConfigMap, NetworkPolicy and ServiceAccount.'),
  image: imageSpec.optional(),
  httpPort: port().optional().describe(`Port the spiced HTTP API listens on (default ${DEFAULT_PORTS.httpPort}).`),
  flightPort: port().optional().describe(`Port the spiced Arrow Flight server listens on (default ${DEFAULT_PORTS.flightPort}).`),
  metricsPort: port().optional().describe(`Port the spiced Prometheus endpoint listens on (default ${DEFAULT_PORTS.metricsPort}).`),
  resources: resourceRequirements.optional().describe('CPU and memory requests and limits of the spiced container.'),
  env: z.array(envVar).optional().describe('Environment variables of the spiced container.'),
  envFromSource: z.array(envFromSource).optional().describe('ConfigMaps and Secrets imported as environment variables.'),
  volume: volumeSpec.optional(),
  // spice.ai/v2's volume fields, stored here as written (core/conversion): v1 had one volume.
  ...volumeFields,
  serviceAccount: serviceAccountSpec.optional(),
  updateStrategy: updateStrategySpec.optional(),
  network: networkSpec.optional(),
  annotations: stringMap(
    'Annotations added to the pods and the objects the operator creates; a change rolls every pod. Reserved spice.ai/ keys are dropped.',
  ).optional(),
  labels: stringMap(
    'Labels added to the pods and the objects the operator creates; a change rolls every pod. Reserved spice.ai/ keys are dropped.',
  ).optional(),
  probes: probesSpec.optional(),
  nodeAffinity: nodeAffinity.optional().describe('Node affinity of the pods.'),
  nodeSelector: stringMap('Node labels the pods must be scheduled on.').optional(),
  tolerations: z.array(toleration).optional().describe('Tolerations of the pods.'),
  podAntiAffinity: podAntiAffinity.optional().describe('Pod anti-affinity, e.g. to spread replicas over nodes.'),
  topologySpreadConstraints: z.array(topologySpreadConstraint).optional().describe('How the pods spread over topology domains.'),
  terminationGracePeriodSeconds: z.int().min(0).optional().describe('Seconds spiced gets to shut down before it is killed.'),
};

/** The older snake_case spelling of the same v1 API (camelCase wins when both are given). */
export const legacySpicepodSetFields = {
  spiceai_image_registry: z.string().optional().describe('Deprecated: use image.registry.'),
  spiceai_image_name: z.string().optional().describe('Deprecated: use image.name.'),
  spiceai_image_tag: z.string().optional().describe('Deprecated: use image.tag.'),
  spiceai_image_pull_secret: z.string().optional().describe('Deprecated: use image.pullSecret.'),
  spiced: z
    .object({
      http_port: port().optional().describe('Deprecated: use httpPort.'),
      flight_port: port().optional().describe('Deprecated: use flightPort.'),
      metrics_port: port().optional().describe('Deprecated: use metricsPort.'),
    })
    .optional()
    .describe('Deprecated: use httpPort, flightPort and metricsPort.'),
  enable_service: z.boolean().optional().describe('Deprecated: use enableService.'),
  env_from_source: z.array(envFromSource).optional().describe('Deprecated: use envFromSource.'),
  service_account: z
    .object({
      enabled: z.boolean().optional().describe('Deprecated: use serviceAccount.enabled.'),
      create: z.boolean().optional().describe('Deprecated: use serviceAccount.create.'),
      name: z.string().optional().describe('Deprecated: use serviceAccount.name.'),
      annotations: stringMap('Deprecated: use serviceAccount.annotations.').optional(),
    })
    .optional()
    .describe('Deprecated: use serviceAccount.'),
  update_strategy: z
    .object({
      type: z
        .enum(UPDATE_STRATEGIES)
        .optional()
        .describe('Deprecated: use updateStrategy.type (this older spelling defaults to RollingParallel).'),
      max_unavailable: intOrPercent().optional().describe('Deprecated: use updateStrategy.maxUnavailable.'),
    })
    .optional()
    .describe('Deprecated: use updateStrategy.'),
  ingress: z.array(networkPolicyIngressRule).optional().describe('Deprecated: use network.ingress.'),
  egress: z.array(networkPolicyEgressRule).optional().describe('Deprecated: use network.egress.'),
  dnsPolicy: dnsPolicy.optional().describe('Deprecated: use network.dnsPolicy.'),
  dnsConfig: podDNSConfig.optional().describe('Deprecated: use network.dnsConfig.'),
};

/** spec of a SpicepodSet as the CRD admits it. */
export const spicepodSetSpecSchema = z
  .object({
    ...workloadFields,
    spicepod: spicepodField(),
    enableService: z
      .boolean()
      .optional()
      .describe('Create the ClusterIP Service (ports 8090, 50051, 9090) in front of the pods (default true).'),
    instantRollback: instantRollbackSpec.optional(),
    cluster: setClusterConfig.optional(),
    ...legacySpicepodSetFields,
    volume: legacyVolumeSpec.optional(),
  })
  .meta({ 'x-kubernetes-validations': [VOLUME_EXCLUSIVE_RULE] })
  .describe('Desired state of a SpicepodSet.');

export const spicepodSetStatusSchema = z
  .object({
    replicas: z.string().optional().describe('Replica state for kubectl, ready/total, e.g. 2/5.'),
    readyReplicas: z.int().optional().describe('Number of Ready pods.'),
    totalReplicas: z.int().optional().describe('Number of desired pods.'),
    selector: z.string().optional().describe('Label selector of the pods, for the scale subresource (HorizontalPodAutoscaler, KEDA).'),
    role: z.string().optional().describe('Cluster role: <none>, scheduler or executor.'),
    pauseReason: z.string().optional().describe('Why the set is paused: Scaled (replicas 0) or CrashLooping.'),
    activeVersion: z.string().optional().describe('Version hash of the generation receiving traffic.'),
    standbyVersion: z.string().optional().describe('Version hash of the standby generation kept for instant rollback.'),
    standbyExpiresAt: z
      .int()
      .optional()
      .describe('When the standby generation is removed, in epoch seconds; after that, when it was (with no standbyVersion).'),
    rolledBackVersion: z
      .string()
      .optional()
      .describe('Version the set was rolled back from; it is not rolled out again until the spec changes.'),
    crashloopBaselines: z
      .array(
        z.object({
          pod: z.string().describe('Pod name.'),
          uid: z.string().describe('Pod uid.'),
          deaths: z.int().describe('Restarts (plus one if the pod died) already accounted for.'),
        }),
      )
      .optional()
      .describe(
        'Crashloop protection counts deaths since each pod was last Ready: the deaths each pod had then (or when the set was resumed). Pods without deaths are not listed.',
      ),
    resumeHandled: z
      .string()
      .optional()
      .describe('The value of the spice.ai/resume annotation last acted on, until the operator has removed the annotation.'),
    lastUpdated: z.string().optional().describe("When the operator last changed this set's children or status (RFC 3339)."),
    observedGeneration: z.int().optional().describe('The .metadata.generation this status reflects.'),
    conditions: conditions().optional(),
  })
  .describe('Observed state of a SpicepodSet.');

// ---- normalization -------------------------------------------------------

/** The spec after defaults and legacy spellings are folded in: what handlers work with. */
export const normalizedSpicepodSetSpecSchema = z.object({
  ...workloadFields,
  spicepod: z.record(z.string(), z.unknown()),
  image: imageSpec.prefault({}),
  httpPort: port().default(DEFAULT_PORTS.httpPort),
  flightPort: port().default(DEFAULT_PORTS.flightPort),
  metricsPort: port().default(DEFAULT_PORTS.metricsPort),
  enableService: z.boolean().default(true),
  serviceAccount: serviceAccountSpec.prefault({}),
  updateStrategy: updateStrategySpec.prefault({}),
  instantRollback: instantRollbackSpec.prefault({}),
  cluster: setClusterConfig.optional(),
});

export type SpicepodSetSpecInput = z.input<typeof spicepodSetSpecSchema>;
export type SpicepodSetSpec = z.output<typeof normalizedSpicepodSetSpecSchema>;
export type SpicepodSetStatus = z.output<typeof spicepodSetStatusSchema>;
export type Condition = NonNullable<SpicepodSetStatus['conditions']>[number];
