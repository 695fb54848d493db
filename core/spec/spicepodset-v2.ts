// The SpicepodSet spice.ai/v2 schema: the field set of the newest product
// docs (facts §1.2 G3 column, §10.4). Served next to v1; the API server keeps
// objects in one storage version and core/conversion translates between
// the two without loss. Handlers never see this shape: they work on the
// normalized v1 form (core/spec/normalize.ts).
import { z } from 'zod';
import { port } from './kubernetes.ts';
import { volumeFields } from './volumes.ts';

export { ACCESS_MODES, DATA_MOUNT_PATH, DATA_VOLUME, pvcResources, volumeClaimTemplate, volumeMount } from './volumes.ts';
import {
  DEFAULT_IMAGE,
  DEFAULT_PORTS,
  DEFAULT_RETENTION_SECONDS,
  imagePullFields,
  setClusterConfig,
  spicepodSetStatusSchema,
  workloadFields,
} from './spicepodset.ts';

export const V2_UPDATE_STRATEGIES = ['RollingOrdered', 'RollingParallel', 'BlueGreen'] as const;

export const imageSpecV2 = z
  .object({
    repository: z
      .string()
      .optional()
      .describe(
        `Full image repository, registry included, e.g. 709825985650.dkr.ecr.us-east-1.amazonaws.com/spice-ai/spiceai-enterprise-byol (default ${DEFAULT_IMAGE.registry}/${DEFAULT_IMAGE.name}).`,
      ),
    tag: z.string().optional().describe(`Image tag; a digest may follow it (tag@sha256:...). Default ${DEFAULT_IMAGE.tag}.`),
    ...imagePullFields,
  })
  .describe('The spiced container image.');

const listener = (what: string, port_: number) =>
  z.object({ port: port().optional().describe(`Port the spiced ${what} listens on (default ${port_}).`) }).describe(`The spiced ${what}.`);

export const standbyVersionSpec = z
  .object({
    enabled: z
      .boolean()
      .optional()
      .describe(
        'Keep the previous version running as a standby. Re-applying the previous spec switches the Service back to it at once, without restarting pods.',
      ),
    retentionPeriodSeconds: z
      .int32()
      .min(0)
      .optional()
      .describe(`How long the standby is kept, in seconds (default ${DEFAULT_RETENTION_SECONDS}).`),
  })
  .describe(
    'Standby of the previous version, for instant rollback by re-applying the previous spec. Versions are content hashes of the deployment-affecting spec (status.activeVersion, status.standbyVersion).',
  );

export const updateStrategySpecV2 = z
  .object({
    type: z
      .enum(V2_UPDATE_STRATEGIES)
      .optional()
      .describe(
        "RollingOrdered: one replica at a time in ordinal order, each Ready before the next (the default). RollingParallel: in parallel, at most maxUnavailable at once. BlueGreen: a full new generation alongside, traffic switched once it is Ready. (v1's Parallel reads as RollingOrdered here.)",
      ),
    maxUnavailable: workloadFields.updateStrategy.unwrap().shape.maxUnavailable,
    minReadyForCutover: workloadFields.updateStrategy.unwrap().shape.minReadyForCutover,
  })
  .describe('How pods are replaced when the spec changes.');

/** Fields a v2 SpicepodSet shares with the v2 node specs of a SpicepodCluster. */
export const workloadFieldsV2 = {
  replicas: workloadFields.replicas,
  image: imageSpecV2.optional(),
  http: listener('HTTP API', DEFAULT_PORTS.httpPort).optional(),
  flight: listener('Arrow Flight server', DEFAULT_PORTS.flightPort).optional(),
  metrics: listener('Prometheus endpoint', DEFAULT_PORTS.metricsPort).optional(),
  resources: workloadFields.resources,
  env: workloadFields.env,
  envFromSource: workloadFields.envFromSource,
  ...volumeFields,
  serviceAccount: workloadFields.serviceAccount,
  updateStrategy: updateStrategySpecV2.optional(),
  network: workloadFields.network,
  annotations: workloadFields.annotations,
  labels: workloadFields.labels,
  probes: workloadFields.probes,
  nodeAffinity: workloadFields.nodeAffinity,
  nodeSelector: workloadFields.nodeSelector,
  tolerations: workloadFields.tolerations,
  podAntiAffinity: workloadFields.podAntiAffinity,
  topologySpreadConstraints: workloadFields.topologySpreadConstraints,
  terminationGracePeriodSeconds: workloadFields.terminationGracePeriodSeconds,
};

export const spicepodFieldV2 = () =>
  z
    .record(z.string(), z.unknown())
    .meta({ 'x-kubernetes-preserve-unknown-fields': true })
    .describe(
      'The Spicepod (spicepod.yaml) to run, as a structured object kept as given. Stored in a ConfigMap and mounted into the pods; a change rolls the pods.',
    );

export const spicepodSetSpecSchemaV2 = z
  .object({
    ...workloadFieldsV2,
    spicepod: spicepodFieldV2(),
    service: z
      .object({ enabled: z.boolean().optional().describe('Create the ClusterIP Service in front of the pods (default true).') })
      .optional()
      .describe('The Service in front of the pods.'),
    standbyVersion: standbyVersionSpec.optional(),
    cluster: setClusterConfig.optional(),
  })
  .describe('Desired state of a SpicepodSet.');

/** v1's status with v2's time format: standbyExpiresAt in RFC 3339 (v1: epoch seconds). */
export const spicepodSetStatusSchemaV2 = spicepodSetStatusSchema
  .extend({
    standbyExpiresAt: z
      .string()
      .optional()
      .describe('When the standby generation is removed (RFC 3339); after that, when it was (with no standbyVersion).'),
  })
  .describe('Observed state of a SpicepodSet.');

export type SpicepodSetSpecV2 = z.input<typeof spicepodSetSpecSchemaV2>;
