// The SpicepodCluster spice.ai/v2 schema (facts §2.1, §2.5 v2 column):
// schedulerSpec/executorSpec with the v2 workload fields, and the v2 status
// names. functions/conversion translates it to and from v1alpha1.
import { z } from 'zod';
import { conditions } from './kubernetes.ts';
import { executorSpicepodField, executorSpicepodRule } from './spicepodcluster.ts';
import { nodeClusterConfig } from './spicepodset.ts';
import { spicepodFieldV2, workloadFieldsV2 } from './spicepodset-v2.ts';

const nodeSpecFieldsV2 = {
  ...workloadFieldsV2,
  cluster: nodeClusterConfig
    .optional()
    .describe("Overrides of the node's cluster-internal addresses; the operator fills in role, mTLS and scheduler discovery."),
};

export const schedulerSpecSchemaV2 = z
  .object({ ...nodeSpecFieldsV2, spicepod: spicepodFieldV2() })
  .describe('The scheduler nodes: they hold the Spicepod and plan queries.');

export const executorSpecSchemaV2 = z
  .object({
    ...nodeSpecFieldsV2,
    spicepod: executorSpicepodField(),
  })
  .meta({ 'x-kubernetes-validations': [executorSpicepodRule('executorSpec', 'schedulerSpec')] })
  .describe('The executor nodes: they run query fragments. No Spicepod and no HTTP readiness probe.');

export const spicepodClusterSpecSchemaV2 = z
  .object({
    schedulerSpec: schedulerSpecSchemaV2,
    executorSpec: executorSpecSchemaV2,
    allowInsecureConnections: z
      .boolean()
      .optional()
      .describe(
        'Run the internal port 50052 without mTLS and issue no certificates. Development only: all inter-node traffic is unencrypted.',
      ),
  })
  .describe('Desired state of a SpicepodCluster.');

export const spicepodClusterStatusSchemaV2 = z
  .object({
    rootCertificateReady: z.boolean().optional().describe("Whether the cluster's root CA exists."),
    rootCertificateSecretName: z
      .string()
      .optional()
      .describe('Secret (in the operator namespace) holding the root CA certificate and key.'),
    rootCertificateExpiresAt: z.string().optional().describe('Expiry of the root CA (RFC 3339).'),
    schedulerSpicepodsetName: z.string().optional().describe('Name of the child scheduler SpicepodSet.'),
    executorSpicepodsetName: z.string().optional().describe('Name of the child executor SpicepodSet.'),
    schedulerReadyReplicas: z.int().optional().describe('Ready scheduler pods.'),
    executorReadyReplicas: z.int().optional().describe('Ready executor pods.'),
    executorSelector: z
      .string()
      .optional()
      .describe('Label selector of the executor pods, for the scale subresource (which scales executorSpec.replicas).'),
    schedulers: z.string().optional().describe('Scheduler readiness for kubectl, ready/total.'),
    executors: z.string().optional().describe('Executor readiness for kubectl, ready/total.'),
    error: z
      .string()
      .optional()
      .describe("Deprecated, kept for v1alpha1 clients: the Ready condition's message when something keeps the cluster from working."),
    lastUpdated: z.string().optional().describe("When the operator last changed this cluster's child sets or status (RFC 3339)."),
    observedGeneration: z.int().optional().describe('The .metadata.generation this status reflects.'),
    conditions: conditions().optional(),
  })
  .describe('Observed state of a SpicepodCluster.');

export type SpicepodClusterSpecV2 = z.input<typeof spicepodClusterSpecSchemaV2>;
