// Generates the CustomResourceDefinitions and JSON schemas from the zod
// schemas, so there is one source of truth. zod emits OpenAPI 3.0; the pass
// below reshapes it into the structural subset the API server requires.
import { z } from 'zod';
import { spicepodClusterSpecSchema, spicepodClusterStatusSchema } from './spicepodcluster.ts';
import { spicepodSetSpecSchema, spicepodSetStatusSchema } from './spicepodset.ts';

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
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, Schema>).map(([k, v]) => [k, toStructural(v)]),
    );
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

interface CrdOptions {
  kind: string;
  plural: string;
  shortNames: string[];
  version: string;
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: Schema[];
}

function crd(o: CrdOptions): Schema {
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
      versions: [
        {
          name: o.version,
          served: true,
          storage: true,
          subresources: { status: {} },
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
                spec: openApiSchema(o.spec),
                status: openApiSchema(o.status),
              },
            },
          },
        },
      ],
    },
  };
}

export function spicepodSetCrd(): Schema {
  return crd({
    kind: 'SpicepodSet',
    plural: 'spicepodsets',
    shortNames: ['sps'],
    version: 'v1',
    description: 'A SpicepodSet runs one Spicepod on spiced replicas: a Deployment, or per-replica StatefulSets when it has a volume, a cluster role or more than one replica.',
    spec: spicepodSetSpecSchema,
    status: spicepodSetStatusSchema,
    printerColumns: [
      { name: 'Ready', type: 'string', jsonPath: '.status.replicas', description: 'Ready/total replicas.' },
      { name: 'Role', type: 'string', jsonPath: '.status.role', description: 'Cluster role.' },
      { name: 'Paused', type: 'string', jsonPath: '.status.pauseReason', description: 'Why the set is paused.', priority: 1 },
      { name: 'Active', type: 'string', jsonPath: '.status.activeVersion', description: 'Version receiving traffic.', priority: 1 },
      { name: 'Last Updated', type: 'date', jsonPath: '.status.lastUpdated', description: 'When the operator last changed the set\'s children or status.' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

export function spicepodClusterCrd(): Schema {
  return crd({
    kind: 'SpicepodCluster',
    plural: 'spicepodclusters',
    shortNames: ['spc'],
    version: 'v1alpha1',
    description: 'A SpicepodCluster runs a distributed query cluster of spiced scheduler and executor nodes, secured with operator-managed mutual TLS.',
    spec: spicepodClusterSpecSchema,
    status: spicepodClusterStatusSchema,
    printerColumns: [
      { name: 'Schedulers', type: 'string', jsonPath: '.status.schedulers', description: 'Ready/total scheduler pods.' },
      { name: 'Executors', type: 'string', jsonPath: '.status.executors', description: 'Ready/total executor pods.' },
      { name: 'CA Ready', type: 'boolean', jsonPath: '.status.rootCertificateReady', description: 'Whether the root CA exists.', priority: 1 },
      { name: 'Last Updated', type: 'date', jsonPath: '.status.lastUpdated', description: 'When the operator last changed the cluster\'s child sets or status.' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

export function allCrds(): Schema[] {
  return [spicepodSetCrd(), spicepodClusterCrd()];
}

export type CrdKind = 'SpicepodSet' | 'SpicepodCluster';

/** The OpenAPI v3 schema of a kind's spec, as `spiceai-operator json-schema` prints it. */
export function specJsonSchema(kind: CrdKind): Schema {
  return openApiSchema(kind === 'SpicepodSet' ? spicepodSetSpecSchema : spicepodClusterSpecSchema);
}
