// The admission decision as a function of the request body's text: one
// ordered chain of named checks (cert-manager's policy chains are the
// model), the first that stops the chain gives the answer and its reason
// (reasons.ts). The order is the rule's priority: what the request is, then
// whether the Pod asks for a sidecar at all (the common case on a busy
// cluster is a Pod that asks for nothing, decided before anything else is
// parsed), what its annotations ask for (injection-request.ts), whether the
// sidecar fits the Pod, and whether its ConfigMap holds the Spicepod.
//
// Pure apart from one injected read, `getConfigMap`. The decision is separate
// from the Request/Response wrapping (handler.ts), which on Node 20 costs more
// than the decision: the operator's server calls it directly for /mutate.
import {
  allow,
  allowWithPatch,
  badRequest,
  deny,
  parseAdmissionReview,
  readPodMetadata,
  readPodSpec,
  type AdmissionRequest,
  type Answer,
  type PodMetadata,
} from './admission.ts';
import type { InjectionDefaults, SidecarSettings } from './annotations.ts';
import { ALWAYS_EXCLUDED_NAMESPACES } from './configuration.ts';
import { readInjectionRequest } from './injection-request.ts';
import { AdmissionReason } from './reasons.ts';
import { injectedPorts, injectedSidecar, injectionPatch, nameCollisions, portCollisions, type PodSpec } from './sidecar.ts';
import { ANNOTATION_INJECT, ANNOTATION_SIDECAR_INJECTED } from '../../core/annotations.ts';
import { LABEL_INJECT_REQUIRED } from '../../core/labels.ts';

export interface ConfigMapData {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}
/** Reads a ConfigMap; undefined when it does not exist. Throws when it cannot tell. */
export type GetConfigMap = (namespace: string, name: string) => Promise<ConfigMapData | undefined>;

/** allowed: injected; skipped: passed through untouched; denied: a user error; error: malformed request or a failed read. */
export type AdmissionResult = 'allowed' | 'denied' | 'error' | 'skipped';

export interface AdmissionOutcome {
  result: AdmissionResult;
  /** Why, as a rule (reasons.ts). */
  code: AdmissionReason;
  /** Why, in words: the skip reason or the denial message. Never object contents. */
  reason: string;
  uid?: string;
  namespace?: string;
  /** The Pod's name, or its generateName followed by "*". */
  pod?: string;
  dryRun?: boolean;
}

export interface InjectionHandlerOptions {
  /** Image and pull policy when the Pod's annotations name none (`run --sidecar-default-image...`). */
  defaults: InjectionDefaults;
  operatorNamespace: string;
  getConfigMap: GetConfigMap;
  /** Forwarded to the sidecar as to every spiced (`run --telemetry-properties`). */
  telemetryProperties?: Record<string, string>;
  /** Told about every admission (for metrics and logs). */
  onAdmission?: (outcome: AdmissionOutcome) => void;
}

/**
 * How a check stops the chain: `skip` lets the Pod through untouched,
 * `deny` refuses it (a user error, HTTP 200 with a 400 status), `retry`
 * refuses it for now (a failed read, a 500 status), `malformed` answers a
 * request that is not an AdmissionReview of a Pod (HTTP 400).
 */
export interface AdmissionVerdict {
  kind: 'skip' | 'deny' | 'retry' | 'malformed';
  reason: AdmissionReason;
  message: string;
}

/** What the checks have read so far. */
interface Admission {
  text: string;
  /** The body as parsed JSON. */
  body?: unknown;
  options: InjectionHandlerOptions;
  excluded: ReadonlySet<string>;
  request?: AdmissionRequest;
  meta?: PodMetadata;
  /** The Pod's name, or its generateName followed by "*". */
  pod?: string;
  namespace?: string;
  spec?: PodSpec;
  settings?: SidecarSettings;
  configMap?: ConfigMapData;
}

type AdmissionCheck = (a: Admission) => AdmissionVerdict | undefined | Promise<AdmissionVerdict | undefined>;

const verdict = (kind: AdmissionVerdict['kind'], reason: AdmissionReason, message: string): AdmissionVerdict => ({ kind, reason, message });
const quote = (s: string) => JSON.stringify(s);

const bodyIsJson: AdmissionCheck = (a) => {
  try {
    a.body = JSON.parse(a.text);
    return undefined;
  } catch (error) {
    return verdict(
      'malformed',
      AdmissionReason.BodyNotJson,
      `the request body is not JSON (${(error as Error).message}): expected an admission.k8s.io/v1 AdmissionReview`,
    );
  }
};

const bodyIsAnAdmissionReview: AdmissionCheck = (a) => {
  const parsed = parseAdmissionReview(a.body);
  if (!parsed.ok) return verdict('malformed', AdmissionReason.NotAnAdmissionReview, parsed.message);
  a.request = parsed.request;
  return undefined;
};

const requestIsForAPod: AdmissionCheck = ({ request: r }) =>
  r!.kind.group !== '' || r!.kind.kind !== 'Pod'
    ? verdict('skip', AdmissionReason.NotAPodRequest, `not a Pod but ${r!.kind.kind}`)
    : undefined;

const operationIsCreate: AdmissionCheck = ({ request: r }) =>
  r!.operation !== 'CREATE'
    ? verdict('skip', AdmissionReason.NotCreate, `operation ${r!.operation}: injection happens on CREATE only`)
    : undefined;

const requestIsNotForASubresource: AdmissionCheck = ({ request: r }) =>
  r!.subResource ? verdict('skip', AdmissionReason.Subresource, `subresource ${r!.subResource}`) : undefined;

const objectHasPodMetadata: AdmissionCheck = (a) => {
  const meta = readPodMetadata(a.request!.object);
  if (!meta.ok) return verdict('malformed', AdmissionReason.ObjectNotAPod, `request.object is not a Pod: ${meta.message}`);
  const { name, generateName } = (a.meta = meta.value);
  a.pod = name || (generateName ? `${generateName}*` : undefined);
  a.namespace = a.request!.namespace ?? meta.value.namespace ?? '';
  return undefined;
};

const podMentionsInjection: AdmissionCheck = ({ meta }) =>
  meta!.annotations?.[ANNOTATION_INJECT] === undefined && meta!.labels?.[LABEL_INJECT_REQUIRED] === undefined
    ? verdict('skip', AdmissionReason.NotRequested, `no ${ANNOTATION_INJECT} annotation`)
    : undefined;

const namespaceIsInjected: AdmissionCheck = ({ excluded, namespace }) =>
  excluded.has(namespace!) ? verdict('skip', AdmissionReason.NamespaceExcluded, `namespace ${namespace} is never injected`) : undefined;

/** Reads the Pod's spec once, for the checks that need it. */
const objectHasPodSpec: AdmissionCheck = (a) => {
  if (a.spec) return undefined;
  const spec = readPodSpec(a.request!.object);
  if (!spec.ok) return verdict('malformed', AdmissionReason.ObjectNotAPod, `request.object is not a Pod: ${spec.message}`);
  a.spec = spec.value;
  return undefined;
};

/**
 * Already injected: on webhook reinvocation (or a Pod copied from an injected
 * one) nothing is added twice. Another mutating webhook may have added a
 * container since; its ports must still not clash with the sidecar's.
 */
const podIsNotInjectedYet: AdmissionCheck = (a) => {
  if (a.meta!.annotations?.[ANNOTATION_SIDECAR_INJECTED] !== 'true') return undefined;
  const unreadable = objectHasPodSpec(a) as AdmissionVerdict | undefined;
  if (unreadable) return unreadable;
  const sidecar = injectedSidecar(a.spec!);
  const ports = sidecar && injectedPorts(sidecar);
  const clashes = ports ? portCollisions(a.spec!, ports, a.meta!.annotations ?? {}) : [];
  if (clashes.length)
    return verdict(
      'deny',
      AdmissionReason.ClashAfterInjection,
      `a container added after injection clashes with the Spice sidecar: ${clashes.join('; ')}`,
    );
  return verdict('skip', AdmissionReason.AlreadyInjected, `already injected (${ANNOTATION_SIDECAR_INJECTED}=true)`);
};

const annotationsAskForASidecar: AdmissionCheck = (a) => {
  const decision = readInjectionRequest(a.meta!.annotations, a.meta!.labels, a.options.defaults);
  if (decision.kind !== 'inject') return decision;
  a.settings = decision.settings;
  return undefined;
};

const sidecarFitsThePod: AdmissionCheck = ({ spec, settings, meta }) => {
  const clashes = [...nameCollisions(spec!), ...portCollisions(spec!, settings!.ports, meta!.annotations ?? {})];
  return clashes.length ? verdict('deny', AdmissionReason.PodClashesWithSidecar, clashes.join('; ')) : undefined;
};

const configMapCanBeRead: AdmissionCheck = async (a) => {
  try {
    a.configMap = await a.options.getConfigMap(a.namespace!, a.settings!.configMap);
    return undefined;
  } catch (error) {
    return verdict(
      'retry',
      AdmissionReason.ConfigMapUnreadable,
      `could not read ConfigMap ${quote(a.settings!.configMap)} in namespace ${quote(a.namespace!)} to check it (${(error as Error).message}); the Pod was not created, try again`,
    );
  }
};

const configMapExists: AdmissionCheck = ({ configMap, settings, namespace }) =>
  configMap
    ? undefined
    : verdict(
        'deny',
        AdmissionReason.ConfigMapNotFound,
        `ConfigMap ${quote(settings!.configMap)} not found in namespace ${quote(namespace!)}: create it (with your Spicepod under the key ${quote(settings!.key)}) before the Pod, or name an existing ConfigMap in the Pod's annotations`,
      );

const configMapHasTheKey: AdmissionCheck = ({ configMap, settings, namespace }) => {
  const keys = [...Object.keys(configMap!.data ?? {}), ...Object.keys(configMap!.binaryData ?? {})];
  if (keys.includes(settings!.key)) return undefined;
  const has = keys.length ? `its keys are ${keys.slice(0, 10).map(quote).join(', ')}${keys.length > 10 ? ', ...' : ''}` : 'it has no keys';
  return verdict(
    'deny',
    AdmissionReason.ConfigMapKeyMissing,
    `ConfigMap ${quote(settings!.configMap)} in namespace ${quote(namespace!)} has no key ${quote(settings!.key)} (${has}): add your Spicepod under that key, or set spice.ai/spicepod-key to the key that holds it`,
  );
};

/** The chain, in priority order: the first verdict is the answer; none means inject. */
export const ADMISSION_CHECKS: ReadonlyArray<readonly [name: string, check: AdmissionCheck]> = [
  ['bodyIsJson', bodyIsJson],
  ['bodyIsAnAdmissionReview', bodyIsAnAdmissionReview],
  ['requestIsForAPod', requestIsForAPod],
  ['operationIsCreate', operationIsCreate],
  ['requestIsNotForASubresource', requestIsNotForASubresource],
  ['objectHasPodMetadata', objectHasPodMetadata],
  ['podMentionsInjection', podMentionsInjection],
  ['namespaceIsInjected', namespaceIsInjected],
  ['podIsNotInjectedYet', podIsNotInjectedYet],
  ['annotationsAskForASidecar', annotationsAskForASidecar],
  ['objectHasPodSpec', objectHasPodSpec],
  ['sidecarFitsThePod', sidecarFitsThePod],
  ['configMapCanBeRead', configMapCanBeRead],
  ['configMapExists', configMapExists],
  ['configMapHasTheKey', configMapHasTheKey],
];

const RESULT_OF: Record<AdmissionVerdict['kind'], AdmissionResult> = {
  skip: 'skipped',
  deny: 'denied',
  retry: 'error',
  malformed: 'error',
};

/** The answer a verdict gives. */
function answerOf(v: AdmissionVerdict, uid: string | undefined): Answer {
  if (v.kind === 'malformed') return badRequest(v.message);
  if (v.kind === 'skip') return allow(uid!);
  return deny(uid!, v.message, v.kind === 'retry' ? 500 : 400);
}

/**
 * The admission decision as a function of the request body's text: the
 * AdmissionReview answer (or a 400) as plain data. The fetch handler
 * (handler.ts) wraps it; a server may also call it directly with the body it read.
 */
export function createAdmission(options: InjectionHandlerOptions): (text: string) => Promise<Answer> {
  const excluded = new Set([options.operatorNamespace, ...ALWAYS_EXCLUDED_NAMESPACES]);
  const report = (outcome: AdmissionOutcome) => {
    try {
      options.onAdmission?.(outcome);
    } catch {
      // observers must never change an admission answer
    }
  };

  return async function admit(text: string): Promise<Answer> {
    const a: Admission = { text, options, excluded };
    const about = () => ({
      ...(a.request ? { uid: a.request.uid, namespace: a.namespace ?? a.request.namespace, dryRun: a.request.dryRun ?? false } : {}),
      ...(a.pod !== undefined ? { pod: a.pod } : {}),
    });
    for (let i = 0; i < ADMISSION_CHECKS.length; i++) {
      // Per admission: an index loop, and only the ConfigMap read (the one asynchronous check) awaited;
      // awaiting every check would allocate a promise and a microtask for each.
      const verdict = ADMISSION_CHECKS[i]![1](a);
      const v = verdict instanceof Promise ? await verdict : verdict;
      if (!v) continue;
      report({ ...about(), result: RESULT_OF[v.kind], code: v.reason, reason: v.message });
      return answerOf(v, a.request?.uid);
    }
    const { settings } = a;
    report({
      ...about(),
      result: 'allowed',
      code: AdmissionReason.Injected,
      reason: `injected ${settings!.image} with ConfigMap ${settings!.configMap}`,
    });
    return allowWithPatch(a.request!.uid, injectionPatch(a.meta!, a.spec!, settings!, options.telemetryProperties));
  };
}
