// What the API server would refuse in the objects a SpicepodSet spec becomes,
// found before anything is written, so the user gets InvalidSpec naming the
// field instead of a child refused in the operator's log. The rules are the
// API server's (k8s.io/kubernetes v1.34.4 pkg/apis/core/validation: ValidateEnv,
// ValidateEnvFrom, validateResourceRequirements, ValidatePersistentVolumeClaimSpec,
// ValidateLabels, ValidateAnnotations; ValidatePodSpec for serviceAccountName
// and nodeSelector), never stricter. What is not checked here still reaches
// the user: a refused write is reported with the API server's message.
import { parseQuantity } from '../manifests/quantity.ts';

import { imageProblems } from './image-reference.ts';
import {
  ANNOTATIONS_MAX_BYTES,
  configMapKeyProblem,
  dnsSubdomainProblem,
  envVarNameProblem,
  labelValueProblem,
  qualifiedNameProblem,
} from './kubernetes-names.ts';
import type { SpecProblem } from './normalize.ts';
import type { SpicepodSetSpec } from './spicepodset.ts';
import { RESERVED_KEYS } from '../labels.ts';

/** Downward API fields an env var may read (validEnvDownwardAPIFieldPathExpressions). */
const ENV_FIELD_PATHS = new Set([
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
]);
const ENV_RESOURCE_FIELDS = new Set([
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
]);
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

const isHugePages = (name: string) => name.startsWith('hugepages-') || name.startsWith('kubernetes.io/hugepages-');
const isNative = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');
/** Requests may be below limits only for native, non-hugepages resources; others must equal them. */
const overcommitAllowed = (name: string) => isNative(name) && !isHugePages(name);

function mapProblems(map: Record<string, string> | undefined, field: string, kind: 'label' | 'annotation'): SpecProblem[] {
  const problems: SpecProblem[] = [];
  let bytes = 0;
  for (const [key, value] of Object.entries(map ?? {})) {
    if (RESERVED_KEYS.has(key)) continue; // dropped, never written
    bytes += key.length + value.length;
    const keyProblem = qualifiedNameProblem(kind === 'annotation' ? key.toLowerCase() : key);
    if (keyProblem) problems.push({ field: `${field}[${JSON.stringify(key)}]`, message: `is not a valid ${kind}: ${keyProblem}` });
    const valueProblem = kind === 'label' ? labelValueProblem(value) : undefined;
    if (valueProblem) problems.push({ field: `${field}[${JSON.stringify(key)}]`, message: valueProblem });
  }
  if (kind === 'annotation' && bytes > ANNOTATIONS_MAX_BYTES) {
    problems.push({ field, message: `are ${bytes} bytes together; Kubernetes allows at most ${ANNOTATIONS_MAX_BYTES}` });
  }
  return problems;
}

function envProblems(spec: SpicepodSetSpec): SpecProblem[] {
  return [
    ...(spec.env ?? []).flatMap((env, i) => envVarProblems(env, `spec.env.${i}`)),
    ...(spec.envFromSource ?? []).flatMap((source, i) => envFromSourceProblems(source, `spec.envFromSource.${i}`)),
  ];
}

type EnvVar = NonNullable<SpicepodSetSpec['env']>[number];

/** One env entry: its name, and a valueFrom with exactly one source whose references are valid. */
function envVarProblems(env: EnvVar, field: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const name = envVarNameProblem(env.name);
  if (name) problems.push({ field: `${field}.name`, message: name });
  const from = env.valueFrom;
  if (!from) return problems;
  const sources = (['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const).filter((k) => from[k] !== undefined);
  if (sources.length === 0) {
    problems.push({
      field: `${field}.valueFrom`,
      message: 'must set one of fieldRef, resourceFieldRef, configMapKeyRef or secretKeyRef',
    });
  } else if (env.value) {
    problems.push({
      field: `${field}.valueFrom`,
      message: 'may not be set together with value: give either a literal value or where it comes from',
    });
  } else if (sources.length > 1) {
    problems.push({ field: `${field}.valueFrom`, message: `sets ${sources.join(' and ')}: only one source at a time` });
  }
  for (const which of ['configMapKeyRef', 'secretKeyRef'] as const) {
    const ref = from[which];
    if (!ref) continue;
    const refName = dnsSubdomainProblem(ref.name);
    if (refName) problems.push({ field: `${field}.valueFrom.${which}.name`, message: refName });
    const key = configMapKeyProblem(ref.key);
    if (key) problems.push({ field: `${field}.valueFrom.${which}.key`, message: key });
  }
  problems.push(...sourceFieldProblems(from, `${field}.valueFrom`));
  return problems;
}

/** The Pod field or resource a valueFrom reads, when it reads one. */
function sourceFieldProblems(from: NonNullable<EnvVar['valueFrom']>, field: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (from.fieldRef) {
    const path = from.fieldRef.fieldPath;
    const subscripted = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
    if (subscripted) {
      const keyProblem = qualifiedNameProblem(subscripted[1] === 'annotations' ? subscripted[2]!.toLowerCase() : subscripted[2]!);
      if (keyProblem) problems.push({ field: `${field}.fieldRef.fieldPath`, message: keyProblem });
    } else if (!ENV_FIELD_PATHS.has(path)) {
      problems.push({
        field: `${field}.fieldRef.fieldPath`,
        message: `${JSON.stringify(path)} is not a Pod field an environment variable can read: one of ${[...ENV_FIELD_PATHS].join(', ')}, metadata.labels['<key>'] or metadata.annotations['<key>']`,
      });
    }
  }
  if (from.resourceFieldRef) {
    const resource = from.resourceFieldRef.resource;
    if (!ENV_RESOURCE_FIELDS.has(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
      problems.push({
        field: `${field}.resourceFieldRef.resource`,
        message: `${JSON.stringify(resource)} is not one of ${[...ENV_RESOURCE_FIELDS].join(', ')}`,
      });
    }
  }
  return problems;
}

/** One envFromSource entry: one ConfigMap or Secret, with a valid name and prefix. */
function envFromSourceProblems(source: NonNullable<SpicepodSetSpec['envFromSource']>[number], field: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  if (source.prefix) {
    const prefix = envVarNameProblem(source.prefix);
    if (prefix) problems.push({ field: `${field}.prefix`, message: prefix });
  }
  const refs = (['configMapRef', 'secretRef'] as const).filter((k) => source[k] !== undefined);
  if (refs.length !== 1)
    problems.push({
      field,
      message: refs.length ? 'sets both configMapRef and secretRef: one per entry' : 'must set configMapRef or secretRef',
    });
  for (const which of refs) {
    const refName = dnsSubdomainProblem(source[which]!.name);
    if (refName) problems.push({ field: `${field}.${which}.name`, message: refName });
  }
  return problems;
}

/** A resource name with '.' or '/' is quoted, as kubectl paths write map keys. */
const resourceField = (kind: 'limits' | 'requests', name: string) =>
  `spec.resources.${kind}${/[./]/.test(name) ? `[${JSON.stringify(name)}]` : `.${name}`}`;

const quantityOf = (value: string | number) => {
  try {
    return parseQuantity(value);
  } catch {
    return undefined; // the schema refuses what is not a quantity
  }
};

function resourceProblems(spec: SpicepodSetSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const { limits = {}, requests = {} } = spec.resources ?? {};
  for (const [kind, map] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const [name, value] of Object.entries(map)) {
      const field = resourceField(kind, name);
      if (!name.includes('/') && !STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePages(name)) {
        problems.push({
          field,
          message: `${JSON.stringify(name)} is not a container resource: cpu, memory, ephemeral-storage, hugepages-<size>, or an extended resource such as example.com/gpu`,
        });
        continue;
      }
      if (name.includes('/') && !isNative(name) && qualifiedNameProblem(`requests.${name}`)) {
        problems.push({ field, message: `${JSON.stringify(name)} is not an extended resource name (<domain>/<name>)` });
        continue;
      }
      const amount = quantityOf(value);
      if (amount === undefined) continue;
      if (amount < 0) problems.push({ field, message: `must not be negative (got ${value})` });
      else if (!isNative(name) && !Number.isInteger(amount))
        problems.push({ field, message: `must be a whole number for an extended resource (got ${value})` });
    }
  }
  for (const [name, value] of Object.entries(requests)) {
    const request = quantityOf(value);
    const limit = limits[name] === undefined ? undefined : quantityOf(limits[name]!);
    if (request === undefined) continue;
    const field = resourceField('requests', name);
    if (limit === undefined) {
      if (limits[name] === undefined && !overcommitAllowed(name))
        problems.push({
          field: resourceField('limits', name),
          message: `is required: ${name} cannot be overcommitted, so its limit must equal its request`,
        });
    } else if (!overcommitAllowed(name) && request !== limit) {
      problems.push({ field, message: `must equal the ${name} limit of ${limits[name]} (got ${value}): ${name} cannot be overcommitted` });
    } else if (request > limit) {
      problems.push({ field, message: `must be at most the ${name} limit of ${limits[name]} (got ${value})` });
    }
  }
  return problems;
}

/** Problems the API server would find in the children of a set with this spec (names derived from the set's name are checked elsewhere). */
export function apiServerProblems(spec: SpicepodSetSpec): SpecProblem[] {
  const problems: SpecProblem[] = [
    ...imageProblems(spec.image, 'spec.image'),
    ...mapProblems(spec.labels, 'spec.labels', 'label'),
    ...mapProblems(spec.annotations, 'spec.annotations', 'annotation'),
    ...mapProblems(spec.nodeSelector, 'spec.nodeSelector', 'label'),
    ...envProblems(spec),
    ...resourceProblems(spec),
  ];
  if (spec.serviceAccount.enabled && spec.serviceAccount.name !== undefined) {
    const name = dnsSubdomainProblem(spec.serviceAccount.name);
    if (name) problems.push({ field: 'spec.serviceAccount.name', message: name });
  }
  problems.push(...mapProblems(spec.serviceAccount.annotations, 'spec.serviceAccount.annotations', 'annotation'));
  const storage = spec.volume?.storageRequests;
  if (storage !== undefined) {
    const size = quantityOf(storage);
    if (size !== undefined && size <= 0)
      problems.push({ field: 'spec.volume.storageRequests', message: `must be greater than zero (got ${storage})` });
  }
  return problems;
}
