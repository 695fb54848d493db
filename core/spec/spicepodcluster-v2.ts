// The SpicepodCluster spice.ai/v2 schema (facts §2.1, §2.5 v2 column):
// schedulerSpec/executorSpec with the v2 workload fields, and the v2 status
// names. core/conversion translates it to and from v1alpha1.
import { z } from 'zod';
import { executorSpicepodField, executorSpicepodRule, spicepodClusterStatusSchema } from './spicepodcluster.ts';
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

/** v1alpha1's names that v2 spells otherwise (core/conversion/status-rules.ts renames the values). */
const RENAMED_STATUS_FIELDS: Record<string, string> = {
  rootSecretName: 'rootCertificateSecretName',
  rootExpiresAt: 'rootCertificateExpiresAt',
};

/** What v2 says differently about a field it shares with v1alpha1. */
const V2_STATUS_DESCRIPTIONS: Record<string, string> = {
  executorSelector: 'Label selector of the executor pods, for the scale subresource (which scales executorSpec.replicas).',
  error: "Deprecated, kept for v1alpha1 clients: the Ready condition's message when something keeps the cluster from working.",
};

/** v1alpha1's status with v2's names, in the same order (so the CRD lists the fields as before). */
export const spicepodClusterStatusSchemaV2 = z
  .object(
    Object.fromEntries(
      Object.entries(spicepodClusterStatusSchema.shape).map(([name, field]) => [
        RENAMED_STATUS_FIELDS[name] ?? name,
        V2_STATUS_DESCRIPTIONS[name] ? field.describe(V2_STATUS_DESCRIPTIONS[name]) : field,
      ]),
    ) as Omit<typeof spicepodClusterStatusSchema.shape, 'rootSecretName' | 'rootExpiresAt'> & {
      rootCertificateSecretName: typeof spicepodClusterStatusSchema.shape.rootSecretName;
      rootCertificateExpiresAt: typeof spicepodClusterStatusSchema.shape.rootExpiresAt;
    },
  )
  .describe('Observed state of a SpicepodCluster.');

export type SpicepodClusterSpecV2 = z.input<typeof spicepodClusterSpecSchemaV2>;
