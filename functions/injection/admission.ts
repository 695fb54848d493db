// The admission.k8s.io/v1 AdmissionReview wire format: the parts of a
// request the injector reads, and the three answers it gives (allow,
// allow with a JSONPatch, deny with a message).
import { encodeBase64 } from '../../core/base64.ts';
import { z } from 'zod';

const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

const AdmissionRequest = z.looseObject({
  uid: z.string().min(1),
  kind: z.looseObject({ group: z.string(), version: z.string(), kind: z.string() }),
  subResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.string(),
  dryRun: z.boolean().optional(),
  object: z.unknown().optional(),
});

const AdmissionReview = z.looseObject({
  apiVersion: z.literal(ADMISSION_API_VERSION),
  kind: z.literal('AdmissionReview'),
  request: AdmissionRequest,
});

export type AdmissionRequest = z.infer<typeof AdmissionRequest>;

// The Pod itself is checked by hand, not with zod: it is the bulk of every
// request on the admission path (managedFields included), and only a few of
// its fields are read. The checks say which field is wrong, as zod's would.

export interface PodMetadata {
  name?: string;
  generateName?: string;
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}
export interface PodContainer {
  name: string;
  ports?: { containerPort: number; name?: string; protocol?: string }[];
  [field: string]: unknown;
}
export interface PodSpec {
  containers: PodContainer[];
  initContainers?: PodContainer[];
  volumes?: { name: string; [field: string]: unknown }[];
  [field: string]: unknown;
}
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

function optionalString(o: Record<string, unknown>, key: string, path: string): string | undefined {
  const v = o[key];
  if (v !== undefined && v !== null && typeof v !== 'string') throw new Error(`${path}.${key}: expected a string`);
  return (v ?? undefined) as string | undefined;
}

function stringMap(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new Error(`${path}: expected an object of strings`);
  for (const k in v) if (typeof v[k] !== 'string') throw new Error(`${path}.${k}: expected a string`);
  return v as Record<string, string>;
}

function containers(v: unknown, path: string, required: boolean): PodContainer[] | undefined {
  if (v === undefined || v === null) {
    if (required) throw new Error(`${path}: expected an array of containers`);
    return undefined;
  }
  if (!Array.isArray(v)) throw new Error(`${path}: expected an array of containers`);
  v.forEach((c, i) => {
    if (!isObject(c) || typeof c.name !== 'string') throw new Error(`${path}.${i}.name: expected a string`);
    if (c.ports === undefined || c.ports === null) return;
    if (!Array.isArray(c.ports)) throw new Error(`${path}.${i}.ports: expected an array`);
    c.ports.forEach((p, j) => {
      if (!isObject(p) || !Number.isInteger(p.containerPort))
        throw new Error(`${path}.${i}.ports.${j}.containerPort: expected a whole number`);
      optionalString(p, 'name', `${path}.${i}.ports.${j}`);
      optionalString(p, 'protocol', `${path}.${i}.ports.${j}`);
    });
  });
  return v as PodContainer[];
}

/** The Pod's metadata: enough to decide whether it asks for injection at all. */
export function readPodMetadata(object: unknown): Checked<PodMetadata> {
  try {
    if (!isObject(object)) return fail('expected an object');
    const m = object.metadata;
    if (!isObject(m)) return fail('metadata: expected an object');
    return {
      ok: true,
      value: {
        name: optionalString(m, 'name', 'metadata'),
        generateName: optionalString(m, 'generateName', 'metadata'),
        namespace: optionalString(m, 'namespace', 'metadata'),
        annotations: stringMap(m.annotations, 'metadata.annotations'),
        labels: stringMap(m.labels, 'metadata.labels'),
      },
    };
  } catch (error) {
    return fail((error as Error).message);
  }
}

/** The spec fields injection reads (and appends to). */
export function readPodSpec(object: unknown): Checked<PodSpec> {
  try {
    const spec = isObject(object) ? object.spec : undefined;
    if (!isObject(spec)) return fail('spec: expected an object');
    containers(spec.containers, 'spec.containers', true);
    containers(spec.initContainers, 'spec.initContainers', false);
    if (spec.volumes !== undefined && spec.volumes !== null) {
      if (!Array.isArray(spec.volumes)) return fail('spec.volumes: expected an array');
      spec.volumes.forEach((vol, i) => {
        if (!isObject(vol) || typeof vol.name !== 'string') throw new Error(`spec.volumes.${i}.name: expected a string`);
      });
    }
    return {
      ok: true,
      value: { ...spec, initContainers: spec.initContainers ?? undefined, volumes: spec.volumes ?? undefined } as PodSpec,
    };
  } catch (error) {
    return fail((error as Error).message);
  }
}

/** Why a body is not an AdmissionReview, in one line naming the first bad field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length ? issue.path.join('.') : '(top level)';
  return `${path}: ${issue.message}`;
}

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

export function parseAdmissionReview(body: unknown): ParsedReview {
  const parsed = AdmissionReview.safeParse(body);
  if (!parsed.success) return { ok: false, message: `not an ${ADMISSION_API_VERSION} AdmissionReview: ${describeIssue(parsed.error)}` };
  return { ok: true, request: parsed.data.request };
}

/** An HTTP answer as plain data: the fetch handler and the Node shim each put it on the wire. */
export interface Answer {
  status: number;
  body: unknown;
}

function review(response: Record<string, unknown>): Answer {
  return { status: 200, body: { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response } };
}

export function allow(uid: string): Answer {
  return review({ uid, allowed: true });
}

export function allowWithPatch(uid: string, patch: unknown[]): Answer {
  return review({ uid, allowed: true, patchType: 'JSONPatch', patch: encodeBase64(JSON.stringify(patch)) });
}

/**
 * The API server shows the message to the user as
 * `admission webhook "<name>" denied the request: <message>`.
 */
export function deny(uid: string, message: string, code = 400): Answer {
  return review({
    uid,
    allowed: false,
    status: { status: 'Failure', code, reason: code >= 500 ? 'InternalError' : 'BadRequest', message },
  });
}

/** Not an AdmissionReview at all: HTTP 400, which the API server reports as a failed call. */
export function badRequest(message: string): Answer {
  return { status: 400, body: { error: message } };
}
