// The SpicepodCluster (spice.ai/v1alpha1) schema: a distributed query
// cluster of scheduler and executor nodes, each rendered as a child SpicepodSet.
import { z } from 'zod';
import { conditions } from './kubernetes.ts';
import { nodeClusterConfig, spicepodField, workloadFields } from './spicepodset.ts';
import { VOLUME_EXCLUSIVE_RULE } from './volumes.ts';

const nodeSpecFields = {
  ...workloadFields,
  cluster: nodeClusterConfig
    .optional()
    .describe("Overrides of the node's cluster-internal addresses; the operator fills in role, mTLS and scheduler discovery."),
};

export const schedulerSetSpecSchema = z
  .object({ ...nodeSpecFields, spicepod: spicepodField() })
  .meta({ 'x-kubernetes-validations': [VOLUME_EXCLUSIVE_RULE] })
  .describe('The scheduler nodes: they hold the Spicepod and plan queries.');

/** An executor's `spicepod`, declared only so the API server can refuse it by name instead of pruning it silently. */
export const executorSpicepodField = () =>
  z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ 'x-kubernetes-preserve-unknown-fields': true })
    .describe('Not allowed: executors fetch the Spicepod from the scheduler.');

/** The CEL rule that refuses it, naming the field where the Spicepod goes in this version. */
export const executorSpicepodRule = (executorField: string, schedulerField: string) => ({
  rule: '!has(self.spicepod)',
  message: `${executorField} does not accept spicepod: executors fetch the Spicepod from the scheduler; put it under ${schedulerField}`,
  fieldPath: '.spicepod',
  reason: 'FieldValueForbidden',
});

export const executorSetSpecSchema = z
  .object({
    ...nodeSpecFields,
    spicepod: executorSpicepodField(),
  })
  .meta({ 'x-kubernetes-validations': [executorSpicepodRule('executorSetSpec', 'schedulerSetSpec'), VOLUME_EXCLUSIVE_RULE] })
  .describe('The executor nodes: they run query fragments. No Spicepod and no HTTP probes.');

export const spicepodClusterSpecSchema = z
  .object({
    schedulerSetSpec: schedulerSetSpecSchema,
    executorSetSpec: executorSetSpecSchema,
    allowInsecureConnections: z
      .boolean()
      .default(false)
      .describe(
        'Run the internal port 50052 without mTLS and issue no certificates. Development only: all inter-node traffic is unencrypted.',
      ),
  })
  .describe('Desired state of a SpicepodCluster.');

export const spicepodClusterStatusSchema = z
  .object({
    rootCertificateReady: z.boolean().optional().describe("Whether the cluster's root CA exists."),
    rootSecretName: z.string().optional().describe('Secret (in the operator namespace) holding the root CA certificate and key.'),
    rootExpiresAt: z.string().optional().describe('Expiry of the root CA (RFC 3339).'),
    schedulerSpicepodsetName: z.string().optional().describe('Name of the child scheduler SpicepodSet.'),
    executorSpicepodsetName: z.string().optional().describe('Name of the child executor SpicepodSet.'),
    schedulerReadyReplicas: z.int().optional().describe('Ready scheduler pods.'),
    executorReadyReplicas: z.int().optional().describe('Ready executor pods.'),
    executorSelector: z
      .string()
      .optional()
      .describe('Label selector of the executor pods, for the scale subresource (which scales executorSetSpec.replicas).'),
    schedulers: z.string().optional().describe('Scheduler readiness for kubectl, ready/total.'),
    executors: z.string().optional().describe('Executor readiness for kubectl, ready/total.'),
    error: z
      .string()
      .optional()
      .describe(
        "What keeps the cluster from working, when something does (an invalid spec, a refused child, a node set paused after crashes): the Ready condition's message then; absent otherwise. Kept for v1alpha1 clients; conditions say the same.",
      ),
    lastUpdated: z.string().optional().describe("When the operator last changed this cluster's child sets or status (RFC 3339)."),
    observedGeneration: z.int().optional().describe('The .metadata.generation this status reflects.'),
    conditions: conditions().optional(),
  })
  .describe('Observed state of a SpicepodCluster.');

export type SpicepodClusterSpecInput = z.input<typeof spicepodClusterSpecSchema>;
export type SpicepodClusterSpec = z.output<typeof spicepodClusterSpecSchema>;
export type SpicepodClusterStatus = z.output<typeof spicepodClusterStatusSchema>;
