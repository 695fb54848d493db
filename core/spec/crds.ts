// Generates the CustomResourceDefinitions and JSON schemas from the zod
// schemas, so there is one source of truth. zod emits OpenAPI 3.0; the pass
// below reshapes it into the structural subset the API server requires.
import { z } from 'zod';
import { spicepodClusterSpecSchema, spicepodClusterStatusSchema } from './spicepodcluster.ts';
import { spicepodSetSpecSchema, spicepodSetStatusSchema } from './spicepodset.ts';
import { spicepodClusterSpecSchemaV2, spicepodClusterStatusSchemaV2 } from './spicepodcluster-v2.ts';
import { spicepodSetSpecSchemaV2, spicepodSetStatusSchemaV2 } from './spicepodset-v2.ts';

export const GROUP = 'spice.ai';

type Schema = Record<string, unknown>;

const INT_BOUNDS = new Set([-2147483648, 2147483647, -9007199254740991, 9007199254740991]);

/** Rewrites zod's OpenAPI output into a Kubernetes structural schema. */
export function toStructural(node: Schema): Schema {
  const out: Schema = { ...node };
  delete out.$schema;
  delete out.id;
  delete out.propertyNames;
  if (out.additionalProperties === false) delete out.additionalProperties;
  for (const bound of ['minimum', 'maximum'] as const) {
    if (typeof out[bound] === 'number' && INT_BOUNDS.has(out[bound] as number)) delete out[bound];
  }
  if (out['x-kubernetes-int-or-string']) {
    const branches = (out.anyOf as Schema[] | undefined) ?? [];
    const str = branches.find((b) => b.type === 'string');
    const int = branches.find((b) => b.type === 'integer');
    delete out.anyOf;
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
    if (str?.pattern) out.pattern = str.pattern;
    if (typeof int?.minimum === 'number' && !INT_BOUNDS.has(int.minimum)) out.minimum = int.minimum;
    return out;
  }
  if (out['x-kubernetes-preserve-unknown-fields']) {
    // Free-form content (the Spicepod), kept as given: any JSON value, or any object when typed as one.
    delete out.anyOf;
    if (out.type !== 'object') delete out.type;
    delete out.properties;
    delete out.additionalProperties;
    return out;
  }
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties as Record<string, Schema>).map(([k, v]) => [k, toStructural(v)]));
  }
  if (out.items && typeof out.items === 'object') out.items = toStructural(out.items as Schema);
  if (out.additionalProperties && typeof out.additionalProperties === 'object') {
    out.additionalProperties = toStructural(out.additionalProperties as Schema);
  }
  return out;
}

/** The OpenAPI v3 schema of a zod schema, as the CRD and `json-schema` print it. */
export function openApiSchema(schema: z.ZodType): Schema {
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', reused: 'inline', unrepresentable: 'any' });
  return toStructural(raw as Schema);
}

/** One served version of a kind. */
interface VersionOptions {
  name: string;
  storage: boolean;
  spec: z.ZodType;
  status: z.ZodType;
  /** The scale subresource: where replicas are in this version's spec and status. */
  scale: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

interface CrdOptions {
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  versions: VersionOptions[];
  printerColumns: Schema[];
}

/** Where the API server sends ConversionReviews: the operator's webhook Service by default. */
export interface ConversionClientConfig {
  service?: { namespace: string; name: string; path: string; port?: number };
  url?: string;
  caBundle?: string;
}

export const CONVERT_PATH = '/convert';
/** The Service and namespace `run` and the chart use by default (run --webhook-service, --operator-namespace). */
export const DEFAULT_CONVERSION_CLIENT: ConversionClientConfig = {
  service: { namespace: 'spiceai-operator-system', name: 'spiceai-operator-webhook', path: CONVERT_PATH, port: 443 },
};

/**
 * Objects are stored in the oldest version (v1 / v1alpha1): clusters that
 * already hold our objects keep them as they are (no migration, no rewrite),
 * and the operator, which reads that version, never waits on the conversion
 * webhook for them. v2 stays served, so clusters that stored v2 objects
 * (status.storedVersions lists it) accept these CRDs; README "API versions".
 */
function crd(o: CrdOptions, client: ConversionClientConfig): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${o.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'spiceai-operator' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: o.kind,
        listKind: `${o.kind}List`,
        plural: o.plural,
        singular: o.kind.toLowerCase(),
        shortNames: o.shortNames,
        categories: ['spice'],
      },
      // Webhook even before the operator runs: a v2 object must never be relabelled as v1 and pruned.
      conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: client } },
      versions: o.versions.map((v) => ({
        name: v.name,
        served: true,
        storage: v.storage,
        subresources: { status: {}, scale: v.scale },
        additionalPrinterColumns: o.printerColumns,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: o.description,
            required: ['spec'],
            properties: {
              apiVersion: { type: 'string', description: 'API version of this object.' },
              kind: { type: 'string', description: 'Kind of this object.' },
              metadata: { type: 'object' },
              spec: openApiSchema(v.spec),
              status: openApiSchema(v.status),
            },
          },
        },
      })),
    },
  };
}

const setScale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.totalReplicas', labelSelectorPath: '.status.selector' };

export function spicepodSetCrd(client: ConversionClientConfig = DEFAULT_CONVERSION_CLIENT): Schema {
  return crd(
    {
      kind: 'SpicepodSet',
      plural: 'spicepodsets',
      shortNames: ['sps'],
      description:
        'A SpicepodSet runs one Spicepod on spiced replicas: a Deployment, or per-replica StatefulSets when it has a volume, a cluster role or more than one replica.',
      versions: [
        { name: 'v1', storage: true, spec: spicepodSetSpecSchema, status: spicepodSetStatusSchema, scale: setScale },
        { name: 'v2', storage: false, spec: spicepodSetSpecSchemaV2, status: spicepodSetStatusSchemaV2, scale: setScale },
      ],
      printerColumns: [
        { name: 'Ready', type: 'string', jsonPath: '.status.replicas', description: 'Ready/total replicas.' },
        { name: 'Role', type: 'string', jsonPath: '.status.role', description: 'Cluster role.' },
        { name: 'Paused', type: 'string', jsonPath: '.status.pauseReason', description: 'Why the set is paused.', priority: 1 },
        { name: 'Active', type: 'string', jsonPath: '.status.activeVersion', description: 'Version receiving traffic.', priority: 1 },
        {
          name: 'Last Updated',
          type: 'date',
          jsonPath: '.status.lastUpdated',
          description: "When the operator last changed the set's children or status.",
        },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
    client,
  );
}

/** A cluster scales its executors (schedulers are few and fixed). */
const clusterScale = (spec: string) => ({
  specReplicasPath: `.spec.${spec}.replicas`,
  statusReplicasPath: '.status.executorReadyReplicas',
  labelSelectorPath: '.status.executorSelector',
});

export function spicepodClusterCrd(client: ConversionClientConfig = DEFAULT_CONVERSION_CLIENT): Schema {
  return crd(
    {
      kind: 'SpicepodCluster',
      plural: 'spicepodclusters',
      shortNames: ['spc'],
      description:
        'A SpicepodCluster runs a distributed query cluster of spiced scheduler and executor nodes, secured with operator-managed mutual TLS.',
      versions: [
        {
          name: 'v1alpha1',
          storage: true,
          spec: spicepodClusterSpecSchema,
          status: spicepodClusterStatusSchema,
          scale: clusterScale('executorSetSpec'),
        },
        {
          name: 'v2',
          storage: false,
          spec: spicepodClusterSpecSchemaV2,
          status: spicepodClusterStatusSchemaV2,
          scale: clusterScale('executorSpec'),
        },
      ],
      printerColumns: [
        { name: 'Schedulers', type: 'string', jsonPath: '.status.schedulers', description: 'Ready/total scheduler pods.' },
        { name: 'Executors', type: 'string', jsonPath: '.status.executors', description: 'Ready/total executor pods.' },
        {
          name: 'CA Ready',
          type: 'boolean',
          jsonPath: '.status.rootCertificateReady',
          description: 'Whether the root CA exists.',
          priority: 1,
        },
        {
          name: 'Last Updated',
          type: 'date',
          jsonPath: '.status.lastUpdated',
          description: "When the operator last changed the cluster's child sets or status.",
        },
        { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
      ],
    },
    client,
  );
}

export function allCrds(client: ConversionClientConfig = DEFAULT_CONVERSION_CLIENT): Schema[] {
  return [spicepodSetCrd(client), spicepodClusterCrd(client)];
}

export type CrdKind = 'SpicepodSet' | 'SpicepodCluster';

/** The OpenAPI v3 schema of a kind's spec, as `spiceai-operator json-schema` prints it. */
export function specJsonSchema(kind: CrdKind): Schema {
  return openApiSchema(kind === 'SpicepodSet' ? spicepodSetSpecSchema : spicepodClusterSpecSchema);
}
