// The hook protocol's wire shapes as zod schemas: what `POST /reconcile`
// takes (a ReconcileRequest carrying the Observed a handler receives) and
// answers (a ReconcileResponse carrying its Desired, or an Error).
//
// They check shape, not meaning: a Kubernetes object needs apiVersion, kind
// and metadata.name, and otherwise travels as the API server wrote it. Both
// ends validate: the server before calling the handler and before sending its
// answer, the operator before acting on an answer. Validation never rewrites
// what it checks (the checked value is used as received, key order and all),
// so an object applied from a hook's answer is byte for byte the one the
// handler built.
import { z } from 'zod';
import { KIND_ERROR, KIND_REQUEST, KIND_RESPONSE } from './version.ts';

const ownerReference = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    name: z.string(),
    uid: z.string(),
    controller: z.boolean().optional(),
    blockOwnerDeletion: z.boolean().optional(),
  })
  .loose();

const stringMap = z.record(z.string(), z.string());

export const objectMetaSchema = z
  .object({
    name: z.string().min(1),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().int().optional(),
    labels: stringMap.optional(),
    annotations: stringMap.optional(),
    ownerReferences: z.array(ownerReference).optional(),
  })
  .loose();

export const kubeObjectSchema = z
  .object({
    apiVersion: z.string().min(1),
    kind: z.string().min(1),
    metadata: objectMetaSchema,
  })
  .loose();

export const objectRefSchema = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string().optional(),
  name: z.string().min(1),
});

export const handlerConfigSchema = z
  .object({
    operatorNamespace: z.string().min(1),
    clusterDomain: z.string().min(1),
    pauseCrashloopingPodsThreshold: z.number().int().min(0),
    telemetryProperties: stringMap,
    secretPropagationSeconds: z.number().int().min(0).optional(),
    operatorPodLabels: stringMap.optional(),
  })
  .loose();

export const failedWriteSchema = z.object({
  target: objectRefSchema,
  verb: z.enum(['apply', 'delete', 'patch', 'create', 'update']),
  code: z.number().int(),
  reason: z.string(),
  message: z.string(),
});

export const observedSchema = z.object({
  parent: kubeObjectSchema,
  children: z.array(kubeObjectSchema),
  related: z.record(z.string(), z.array(kubeObjectSchema)),
  now: z.number().int().min(0),
  config: handlerConfigSchema,
  failedWrites: z.array(failedWriteSchema).optional(),
});

export const recordedEventSchema = z.object({
  type: z.enum(['Normal', 'Warning']),
  reason: z.string().min(1),
  message: z.string(),
});

/**
 * Desired as it travels. JSON has no `undefined`, so a status key the handler set to undefined
 * ("remove it") travels in `statusRemove` instead (wire.ts).
 */
export const desiredWireSchema = z.object({
  apply: z.array(kubeObjectSchema),
  keep: z.array(objectRefSchema).optional(),
  patch: z.array(z.object({ target: objectRefSchema, patch: z.record(z.string(), z.unknown()) })).optional(),
  write: z.array(z.object({ object: kubeObjectSchema, ifResourceVersion: z.string().optional() })).optional(),
  status: z.record(z.string(), z.unknown()).optional(),
  statusRemove: z.array(z.string()).optional(),
  events: z.array(recordedEventSchema).optional(),
  requeueAfterSeconds: z
    .number()
    .min(0)
    .max(365 * 24 * 3600)
    .optional(),
});

const handlerName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a handler name (lower-case letters, digits, -)');

export const reconcileRequestSchema = z.object({
  apiVersion: z.string(),
  kind: z.literal(KIND_REQUEST),
  handler: handlerName,
  observed: observedSchema,
});

export const reconcileResponseSchema = z.object({
  apiVersion: z.string(),
  kind: z.literal(KIND_RESPONSE),
  handler: handlerName,
  desired: desiredWireSchema,
});

export const hookErrorSchema = z.object({
  apiVersion: z.string(),
  kind: z.literal(KIND_ERROR),
  code: z.number().int(),
  reason: z.string(),
  message: z.string(),
  /** The request field at fault, as a dotted path, when one is. */
  field: z.string().optional(),
});

export type DesiredWire = z.infer<typeof desiredWireSchema>;
export type ReconcileRequest = z.infer<typeof reconcileRequestSchema>;
export type ReconcileResponse = z.infer<typeof reconcileResponseSchema>;
export type HookError = z.infer<typeof hookErrorSchema>;

/** The first problem zod found, as `field: message` with a dotted path. */
export function firstIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.');
  return { field, message: field ? `${field}: ${issue.message}` : issue.message };
}
