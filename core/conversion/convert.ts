// One object from one served version to another. The storage versions (v1,
// v1alpha1) and v2 differ in spec and status; metadata is untouched except
// for the kept-fields annotations (the only metadata a conversion webhook may
// change besides labels). Pure: the same object in gives the same object out.
import { spicepodClusterSpecSchema, schedulerSetSpecSchema, spicepodClusterStatusSchema } from '../spec/spicepodcluster.ts';
import { spicepodClusterSpecSchemaV2, schedulerSpecSchemaV2, spicepodClusterStatusSchemaV2 } from '../spec/spicepodcluster-v2.ts';
import { spicepodSetSpecSchema, spicepodSetStatusSchema } from '../spec/spicepodset.ts';
import { spicepodSetSpecSchemaV2, spicepodSetStatusSchemaV2 } from '../spec/spicepodset-v2.ts';
import { translate, type Direction, type Json, type KeptFields, type Rule, type Shapes } from './kept-fields.ts';
import { WORKLOAD_RULES } from './spec-rules.ts';
import { CLUSTER_STATUS_RULES, SET_STATUS_RULES } from './status-rules.ts';

export const GROUP = 'spice.ai';
export const HUB_VERSION = 'v2';

/** On a v2 object: the older version's values v2 cannot express (named by that version). */
export const keptAnnotation = (version: string) => `${GROUP}/${version}-fields`;

interface KindVersions {
  older: string;
  spec: { rules: readonly Rule[]; shapes: Shapes };
  status: { rules: readonly Rule[]; shapes: Shapes };
}

const nodeShapes: Shapes = { older: schedulerSetSpecSchema.shape, newer: schedulerSpecSchemaV2.shape };

export const KINDS: Record<string, KindVersions> = {
  SpicepodSet: {
    older: 'v1',
    spec: { rules: WORKLOAD_RULES, shapes: { older: spicepodSetSpecSchema.shape, newer: spicepodSetSpecSchemaV2.shape } },
    status: { rules: SET_STATUS_RULES, shapes: { older: spicepodSetStatusSchema.shape, newer: spicepodSetStatusSchemaV2.shape } },
  },
  SpicepodCluster: {
    older: 'v1alpha1',
    spec: {
      rules: [
        { name: 'schedulerSpec', older: 'schedulerSetSpec', newer: 'schedulerSpec', rules: WORKLOAD_RULES, shapes: nodeShapes },
        { name: 'executorSpec', older: 'executorSetSpec', newer: 'executorSpec', rules: WORKLOAD_RULES, shapes: nodeShapes },
      ],
      shapes: { older: spicepodClusterSpecSchema.shape, newer: spicepodClusterSpecSchemaV2.shape },
    },
    status: {
      rules: CLUSTER_STATUS_RULES,
      shapes: { older: spicepodClusterStatusSchema.shape, newer: spicepodClusterStatusSchemaV2.shape },
    },
  },
};

export class ConversionError extends Error {}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: { annotations?: Record<string, string>; [key: string]: unknown };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

function readKept(annotations: Record<string, string> | undefined, key: string): KeptFields {
  const text = annotations?.[key];
  if (!text) return {};
  try {
    const parsed = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as KeptFields) : {};
  } catch {
    return {}; // edited by hand into something unreadable: translate afresh
  }
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `object` in `desiredApiVersion` (spice.ai/v1, spice.ai/v1alpha1 or spice.ai/v2). */
export function convertObject(object: KubeObject, desiredApiVersion: string): KubeObject {
  const kind = KINDS[object.kind];
  if (!kind) throw new ConversionError(`cannot convert kind ${object.kind}: only SpicepodSet and SpicepodCluster`);
  const versions = [`${GROUP}/${kind.older}`, `${GROUP}/${HUB_VERSION}`];
  for (const v of [object.apiVersion, desiredApiVersion]) {
    if (!versions.includes(v))
      throw new ConversionError(
        `cannot convert ${object.kind} ${object.apiVersion} to ${desiredApiVersion}: ${object.kind} is served as ${versions.join(' and ')}`,
      );
  }
  if (object.apiVersion === desiredApiVersion) return object;
  const direction: Direction = desiredApiVersion.endsWith(`/${HUB_VERSION}`) ? 'up' : 'down';
  // Going up, the older version's leftovers are kept under its own name; going down, v2's.
  const [incomingKey, outgoingKey] =
    direction === 'up'
      ? [keptAnnotation(HUB_VERSION), keptAnnotation(kind.older)]
      : [keptAnnotation(kind.older), keptAnnotation(HUB_VERSION)];
  const annotations = { ...(object.metadata?.annotations ?? {}) };
  const incoming = readKept(annotations, incomingKey);
  const outgoing: KeptFields = {};
  const out: KubeObject = { ...object, apiVersion: desiredApiVersion };
  if (isObject(object.spec)) out.spec = translate(kind.spec.rules, kind.spec.shapes, object.spec, direction, incoming, outgoing);
  // Status is the operator's, written in the storage version: it translates exactly and keeps nothing.
  if (isObject(object.status)) out.status = translate(kind.status.rules, kind.status.shapes, object.status, direction, {}, {});
  delete annotations[incomingKey];
  delete annotations[outgoingKey];
  if (Object.keys(outgoing).length) annotations[outgoingKey] = JSON.stringify(outgoing);
  const metadata = { ...(object.metadata ?? {}) };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  out.metadata = metadata;
  return out;
}

/**
 * A SpicepodSet or SpicepodCluster in its storage version (v1, v1alpha1), as the API server stores
 * it: converted when it came as v2, as it is otherwise (other kinds and versions included).
 */
export function inStorageVersion<T extends { apiVersion?: string; kind?: string }>(object: T): T {
  const kind = object.kind ? KINDS[object.kind] : undefined;
  if (!kind || object.apiVersion !== `${GROUP}/${HUB_VERSION}`) return object;
  return convertObject(object as unknown as KubeObject, `${GROUP}/${kind.older}`) as unknown as T;
}
