// What a Pod's spice.ai/* annotations ask for: one ordered chain of named
// checks (cert-manager's policy chains are the model). Each check reads the
// annotations into the draft of the sidecar's settings or stops the chain
// with a reason (reasons.ts) and the words a user reads; the order is the
// rule's priority: whether a sidecar is asked for at all, then which
// ConfigMap and key, the image, the ports, the resources.
// Every denial names the annotation, the value and the fix.
import { PULL_POLICIES } from '../../core/spec/kubernetes.ts';
import { SPICEPOD_KEY } from '../../core/manifests/names.ts';
import type { SpicedPorts } from '../../core/manifests/spiced.ts';
import {
  ANNOTATION_CONFIGMAP,
  ANNOTATION_IMAGE,
  ANNOTATION_IMAGE_PULL_POLICY,
  ANNOTATION_INJECT,
  ANNOTATION_INJECT_CONFIG,
  ANNOTATION_INJECT_CONFIG_KEY,
  ANNOTATION_KEY,
} from '../../core/annotations.ts';
import { LABEL_INJECT_REQUIRED } from '../../core/labels.ts';
import {
  DEFAULT_PORTS,
  isConfigMapKey,
  isConfigMapName,
  parsePort,
  PORT_ANNOTATIONS,
  requestAboveLimit,
  RESOURCE_SETTINGS,
  resourceQuantityError,
  type InjectionDefaults,
  type SidecarResources,
  type SidecarSettings,
} from './annotations.ts';
import { AdmissionReason } from './reasons.ts';

/** A reason not to inject: `skip` passes the Pod through untouched, `deny` refuses it. */
export interface InjectionRefusal {
  kind: 'skip' | 'deny';
  reason: AdmissionReason;
  /** What a user reads: the annotation, the value and the fix. */
  message: string;
}

export type InjectionDecision = InjectionRefusal | { kind: 'inject'; settings: SidecarSettings };

const ENABLED = new Set(['true', 'enabled']);
const DISABLED = new Set(['false', 'disabled']);
/**
 * Valid ConfigMap names that are far more likely a boolean meant some other
 * way than a ConfigMap: refused with a hint instead of a "ConfigMap yes not found".
 */
const BOOLEAN_LOOKALIKES = new Set(['yes', 'no', 'on', 'off', 'y', 'n', '1', '0', 'enable', 'disable']);
const PORT_ORDER = Object.keys(PORT_ANNOTATIONS) as (keyof SpicedPorts)[];

const quote = (s: string) => JSON.stringify(s);
const deny = (reason: AdmissionReason, message: string): InjectionRefusal => ({ kind: 'deny', reason, message });

/** The value of one of two equivalent annotations (older and newer spelling), and which one gave it. */
interface EitherValue {
  value?: string;
  from?: string;
  error?: string;
}

/** Reads the value of one of two equivalent annotations; both set and different is an error. */
function either(annotations: Record<string, string>, older: string, newer: string): EitherValue {
  const a = annotations[older];
  const b = annotations[newer];
  if (a !== undefined && b !== undefined && a.trim() !== b.trim()) {
    return { error: `${older} is ${quote(a)} but ${newer} is ${quote(b)}: they mean the same thing, keep one of them` };
  }
  if (a !== undefined) return { value: a.trim(), from: older };
  if (b !== undefined) return { value: b.trim(), from: newer };
  return {};
}

/** What the checks have read so far. */
interface Draft {
  annotations: Record<string, string>;
  /** The Pod carries spice.ai/inject-required=true. */
  required: boolean;
  defaults: InjectionDefaults;
  /** spice.ai/inject naming the ConfigMap itself. */
  shorthand?: string;
  named?: EitherValue;
  configMap?: string;
  keyed?: EitherValue;
  key?: string;
  image?: string;
  imagePullPolicy?: string;
  ports: SpicedPorts;
  resources: SidecarResources;
  /** The resource annotations set on the Pod (the rest come from the operator's defaults). */
  fromAnnotation: Set<string>;
}

type RequestCheck = (draft: Draft) => InjectionRefusal | undefined;

/** Not asked for: passed through, unless the Pod's label requires a sidecar. */
const notRequested = (d: Draft, why: string): InjectionRefusal =>
  d.required
    ? deny(
        AdmissionReason.RequiredButNotRequested,
        `the label ${LABEL_INJECT_REQUIRED}=true requires a Spice sidecar, but ${why}: set ${ANNOTATION_INJECT} to "true" (with ${ANNOTATION_CONFIGMAP}) or to the name of the ConfigMap holding your spicepod.yaml, or remove the label`,
      )
    : { kind: 'skip', reason: AdmissionReason.NotRequested, message: why };

const podAsksForASidecar: RequestCheck = (d) => {
  const raw = d.annotations[ANNOTATION_INJECT];
  if (raw === undefined) return notRequested(d, `the Pod has no ${ANNOTATION_INJECT} annotation`);
  if (DISABLED.has(raw.trim().toLowerCase())) return notRequested(d, `${ANNOTATION_INJECT} is ${quote(raw)}`);
  return undefined;
};

const injectValueIsRecognised: RequestCheck = (d) => {
  const raw = d.annotations[ANNOTATION_INJECT]!;
  const value = raw.trim();
  const lower = value.toLowerCase();
  if (ENABLED.has(lower)) return undefined;
  if (BOOLEAN_LOOKALIKES.has(lower) || !isConfigMapName(value)) {
    return deny(
      AdmissionReason.UnrecognisedInjectValue,
      `${ANNOTATION_INJECT}: ${quote(raw)} is not a recognised value: use "true" or "enabled" (with ${ANNOTATION_CONFIGMAP}), "false" or "disabled", or the name of the ConfigMap that holds your spicepod.yaml`,
    );
  }
  d.shorthand = value;
  return undefined;
};

const configMapSpellingsAgree: RequestCheck = (d) => {
  d.named = either(d.annotations, ANNOTATION_CONFIGMAP, ANNOTATION_INJECT_CONFIG);
  return d.named.error ? deny(AdmissionReason.AnnotationsDisagree, d.named.error) : undefined;
};

const configMapNamedOnce: RequestCheck = ({ shorthand, named }) =>
  shorthand !== undefined && named!.value !== undefined && named!.value !== shorthand
    ? deny(
        AdmissionReason.ConfigMapNamedTwice,
        `${ANNOTATION_INJECT} names the ConfigMap ${quote(shorthand)} but ${named!.from} names ${quote(named!.value)}: set ${ANNOTATION_INJECT} to "true" and keep ${named!.from}, or remove ${named!.from}`,
      )
    : undefined;

const configMapIsNamed: RequestCheck = (d) => {
  d.configMap = d.shorthand ?? d.named!.value;
  if (d.configMap !== undefined) return undefined;
  return deny(
    AdmissionReason.NoConfigMapNamed,
    `${ANNOTATION_INJECT} is ${quote(d.annotations[ANNOTATION_INJECT]!)} but no ConfigMap is named: set ${ANNOTATION_CONFIGMAP} (or ${ANNOTATION_INJECT_CONFIG}) to the ConfigMap holding your spicepod.yaml, or set ${ANNOTATION_INJECT} to that ConfigMap's name`,
  );
};

const configMapNameIsValid: RequestCheck = ({ configMap, named }) =>
  isConfigMapName(configMap!)
    ? undefined
    : deny(
        AdmissionReason.InvalidConfigMapName,
        `${named!.from}: ${quote(configMap!)} is not a valid ConfigMap name: use lower-case letters, digits, '-' and '.' (at most 253 characters)`,
      );

const keySpellingsAgree: RequestCheck = (d) => {
  d.keyed = either(d.annotations, ANNOTATION_KEY, ANNOTATION_INJECT_CONFIG_KEY);
  return d.keyed.error ? deny(AdmissionReason.AnnotationsDisagree, d.keyed.error) : undefined;
};

const keyIsValid: RequestCheck = (d) => {
  d.key = d.keyed!.value ?? SPICEPOD_KEY;
  return isConfigMapKey(d.key)
    ? undefined
    : deny(
        AdmissionReason.InvalidConfigMapKey,
        `${d.keyed!.from}: ${quote(d.key)} is not a valid ConfigMap key: use letters, digits, '-', '_' and '.' (default ${SPICEPOD_KEY})`,
      );
};

const imageIsAReference: RequestCheck = (d) => {
  const set = d.annotations[ANNOTATION_IMAGE];
  d.image = set !== undefined ? set.trim() : d.defaults.image;
  if (d.image && !/\s/.test(d.image)) return undefined;
  return deny(
    AdmissionReason.InvalidImage,
    `${ANNOTATION_IMAGE}: ${quote(set ?? '')} is not an image reference: set it to e.g. spiceai/spiceai:latest-models, or remove it to use the operator's default (${d.defaults.image})`,
  );
};

const pullPolicyIsKnown: RequestCheck = (d) => {
  const set = d.annotations[ANNOTATION_IMAGE_PULL_POLICY];
  d.imagePullPolicy = set !== undefined ? set.trim() : d.defaults.imagePullPolicy;
  if ((PULL_POLICIES as readonly string[]).includes(d.imagePullPolicy)) return undefined;
  return deny(
    AdmissionReason.InvalidPullPolicy,
    `${ANNOTATION_IMAGE_PULL_POLICY}: ${quote(d.imagePullPolicy)} is not a pull policy: use ${PULL_POLICIES.join(', ')} (case matters), or remove it to use the operator's default (${d.defaults.imagePullPolicy})`,
  );
};

const portsAreNumbers: RequestCheck = (d) => {
  for (const which of PORT_ORDER) {
    const set = d.annotations[PORT_ANNOTATIONS[which]];
    if (set === undefined) continue;
    const parsed = parsePort(PORT_ANNOTATIONS[which], set);
    if (parsed.error) return deny(AdmissionReason.InvalidPort, parsed.error);
    d.ports[which] = parsed.port!;
  }
  return undefined;
};

const portsDiffer: RequestCheck = ({ ports, annotations }) => {
  const name = (k: keyof SpicedPorts) => `${PORT_ANNOTATIONS[k]}${annotations[PORT_ANNOTATIONS[k]] === undefined ? ' (by default)' : ''}`;
  for (let i = 0; i < PORT_ORDER.length; i++) {
    for (let j = i + 1; j < PORT_ORDER.length; j++) {
      const [a, b] = [PORT_ORDER[i]!, PORT_ORDER[j]!];
      if (ports[a] === ports[b]) {
        return deny(
          AdmissionReason.PortsCollide,
          `${name(a)} and ${name(b)} are both ${ports[a]}: the sidecar needs three different ports, change one of them`,
        );
      }
    }
  }
  return undefined;
};

const resourcesAreQuantities: RequestCheck = (d) => {
  for (const { bound, resource, annotation } of RESOURCE_SETTINGS) {
    const set = d.annotations[annotation];
    const byDefault = d.defaults.resources?.[bound]?.[resource];
    const value = set !== undefined ? set.trim() : byDefault;
    if (value === undefined) continue;
    if (set !== undefined) {
      const error = resourceQuantityError(value);
      if (error)
        return deny(
          AdmissionReason.InvalidResourceQuantity,
          `${annotation}: ${error}, or remove it${byDefault ? ` to use the operator's default (${byDefault})` : ''}`,
        );
      d.fromAnnotation.add(annotation);
    }
    (d.resources[bound] ??= {})[resource] = value;
  }
  return undefined;
};

const requestsWithinLimits: RequestCheck = ({ resources, fromAnnotation }) => {
  const tooHigh = requestAboveLimit(resources);
  if (!tooHigh) return undefined;
  const [request, limit] = (['requests', 'limits'] as const).map(
    (bound) => RESOURCE_SETTINGS.find((r) => r.bound === bound && r.resource === tooHigh.resource)!,
  );
  const source = (r: (typeof RESOURCE_SETTINGS)[number]) =>
    fromAnnotation.has(r.annotation) ? r.annotation : `the operator's default, --${r.flag}`;
  return deny(
    AdmissionReason.RequestAboveLimit,
    `the sidecar's ${tooHigh.resource} request ${tooHigh.request} (${source(request!)}) is above its limit ${tooHigh.limit} (${source(limit!)}): lower ${request!.annotation} or raise ${limit!.annotation}`,
  );
};

/** The chain, in priority order: the first refusal is the answer. */
export const INJECTION_REQUEST_CHECKS: ReadonlyArray<readonly [name: string, check: RequestCheck]> = [
  ['podAsksForASidecar', podAsksForASidecar],
  ['injectValueIsRecognised', injectValueIsRecognised],
  ['configMapSpellingsAgree', configMapSpellingsAgree],
  ['configMapNamedOnce', configMapNamedOnce],
  ['configMapIsNamed', configMapIsNamed],
  ['configMapNameIsValid', configMapNameIsValid],
  ['keySpellingsAgree', keySpellingsAgree],
  ['keyIsValid', keyIsValid],
  ['imageIsAReference', imageIsAReference],
  ['pullPolicyIsKnown', pullPolicyIsKnown],
  ['portsAreNumbers', portsAreNumbers],
  ['portsDiffer', portsDiffer],
  ['resourcesAreQuantities', resourcesAreQuantities],
  ['requestsWithinLimits', requestsWithinLimits],
];

/**
 * What the annotations ask for. `defaults` are the operator-wide image and
 * pull policy (`run --sidecar-default-image...`); annotations override them.
 */
export function readInjectionRequest(
  annotations: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
  defaults: InjectionDefaults,
): InjectionDecision {
  const d: Draft = {
    annotations: annotations ?? {},
    required: labels?.[LABEL_INJECT_REQUIRED] === 'true',
    defaults,
    ports: { ...DEFAULT_PORTS },
    resources: {},
    fromAnnotation: new Set(),
  };
  // Run for every admission: an index loop creates no iterator objects.
  for (let i = 0; i < INJECTION_REQUEST_CHECKS.length; i++) {
    const refusal = INJECTION_REQUEST_CHECKS[i]![1](d);
    if (refusal) return refusal;
  }
  const { configMap, key, image, imagePullPolicy, ports, resources } = d;
  return {
    kind: 'inject',
    settings: {
      configMap: configMap!,
      key: key!,
      image: image!,
      imagePullPolicy: imagePullPolicy!,
      ports,
      ...(resources.requests || resources.limits ? { resources } : {}),
    },
  };
}
