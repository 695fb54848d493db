// The sidecar injector: a fetch handler for `POST /mutate` that answers an
// admission.k8s.io/v1 AdmissionReview for Pod CREATE with a JSONPatch adding
// spiced as a native sidecar, or with a denial that says what to change.
//
// Pure apart from one injected read, `getConfigMap`, so it runs unchanged
// under the operator's HTTPS server, on any fetch runtime, and in unit tests.
// The decision itself (`createAdmission`: body text in, answer out) is
// separate from the Request/Response wrapping, which on Node 20 costs more
// than the decision: the operator's server calls it directly for /mutate.
import { Router } from 'itty-router';
import { allow, allowWithPatch, badRequest, deny, parseAdmissionReview, readPodMetadata, readPodSpec, type Answer } from './admission.ts';
import { readInjectionRequest, type InjectionDefaults } from './annotations.ts';
import { ALWAYS_EXCLUDED_NAMESPACES } from './configuration.ts';
import { injectedPorts, injectedSidecar, injectionPatch, nameCollisions, portCollisions, type PodSpec as Spec } from './sidecar.ts';
import { ANNOTATION_INJECT, ANNOTATION_SIDECAR_INJECTED } from '../../core/annotations.ts';
import { LABEL_INJECT_REQUIRED } from '../../core/labels.ts';

export type { Answer } from './admission.ts';
export * from './annotations.ts';
export { SIDECAR_CONTAINER, SIDECAR_VOLUME, SIDECAR_PORT_NAMES, sidecarContainer, type JsonPatchOp } from './sidecar.ts';
export { webhookConfiguration, ALWAYS_EXCLUDED_NAMESPACES, WEBHOOK_NAMES, WEBHOOK_TIMEOUT_SECONDS, type WebhookConfigurationOptions } from './configuration.ts';

export const MUTATE_PATH = '/mutate';

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
 * The admission decision as a function of the request body's text: the
 * AdmissionReview answer (or a 400) as plain data. The fetch handler below
 * wraps it; a server may also call it directly with the body it read.
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
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      const message = `the request body is not JSON (${(error as Error).message}): expected an admission.k8s.io/v1 AdmissionReview`;
      report({ result: 'error', reason: message });
      return badRequest(message);
    }
    const parsed = parseAdmissionReview(body);
    if (!parsed.ok) {
      report({ result: 'error', reason: parsed.message });
      return badRequest(parsed.message);
    }
    const req = parsed.request;
    const uid = req.uid;
    const base = { uid, namespace: req.namespace, dryRun: req.dryRun ?? false };
    const skip = (reason: string, pod?: string) => {
      report({ ...base, pod, result: 'skipped', reason });
      return allow(uid);
    };

    if (req.kind.group !== '' || req.kind.kind !== 'Pod') return skip(`not a Pod but ${req.kind.kind}`);
    if (req.operation !== 'CREATE') return skip(`operation ${req.operation}: injection happens on CREATE only`);
    if (req.subResource) return skip(`subresource ${req.subResource}`);

    const meta = readPodMetadata(req.object);
    if (!meta.ok) {
      const message = `request.object is not a Pod: ${meta.message}`;
      report({ ...base, result: 'error', reason: message });
      return badRequest(message);
    }
    const { annotations, labels, name, generateName } = meta.value;
    const pod = name || (generateName ? `${generateName}*` : undefined);
    const namespace = req.namespace ?? meta.value.namespace ?? '';

    // The common case on a busy cluster: a Pod that asks for nothing. Decided
    // before anything else is parsed.
    if (annotations?.[ANNOTATION_INJECT] === undefined && labels?.[LABEL_INJECT_REQUIRED] === undefined) {
      return skip(`no ${ANNOTATION_INJECT} annotation`, pod);
    }
    if (excluded.has(namespace)) return skip(`namespace ${namespace} is never injected`, pod);

    const denied = (message: string, code = 400) => {
      report({ ...base, namespace, pod, result: code >= 500 ? 'error' : 'denied', reason: message });
      return deny(uid, message, code);
    };
    const specOf = (): { spec: Spec } | { answer: Answer } => {
      const parsedSpec = readPodSpec(req.object);
      if (parsedSpec.ok) return { spec: parsedSpec.value };
      const message = `request.object is not a Pod: ${parsedSpec.message}`;
      report({ ...base, namespace, pod, result: 'error', reason: message });
      return { answer: badRequest(message) };
    };

    // Already injected: on webhook reinvocation (or a Pod copied from an injected
    // one) nothing is added twice. Another mutating webhook may have added a
    // container since; its ports must still not clash with the sidecar's.
    if (annotations?.[ANNOTATION_SIDECAR_INJECTED] === 'true') {
      const read = specOf();
      if ('answer' in read) return read.answer;
      const { spec } = read;
      const sidecar = injectedSidecar(spec);
      const ports = sidecar && injectedPorts(sidecar);
      if (ports) {
        const clashes = portCollisions(spec, ports, annotations ?? {});
        if (clashes.length) return denied(`a container added after injection clashes with the Spice sidecar: ${clashes.join('; ')}`);
      }
      return skip(`already injected (${ANNOTATION_SIDECAR_INJECTED}=true)`, pod);
    }

    const decision = readInjectionRequest(annotations, labels, options.defaults);
    if (decision.kind === 'skip') return skip(decision.reason, pod);
    if (decision.kind === 'deny') return denied(decision.message);

    const read = specOf();
    if ('answer' in read) return read.answer;
    const { spec } = read;
    const { settings } = decision;
    const clashes = [...nameCollisions(spec), ...portCollisions(spec, settings.ports, annotations ?? {})];
    if (clashes.length) return denied(clashes.join('; '));

    let configMap: ConfigMapData | undefined;
    try {
      configMap = await options.getConfigMap(namespace, settings.configMap);
    } catch (error) {
      return denied(
        `could not read ConfigMap ${JSON.stringify(settings.configMap)} in namespace ${JSON.stringify(namespace)} to check it (${(error as Error).message}); the Pod was not created, try again`,
        500,
      );
    }
    if (!configMap) {
      return denied(
        `ConfigMap ${JSON.stringify(settings.configMap)} not found in namespace ${JSON.stringify(namespace)}: create it (with your Spicepod under the key ${JSON.stringify(settings.key)}) before the Pod, or name an existing ConfigMap in the Pod's annotations`,
      );
    }
    const keys = [...Object.keys(configMap.data ?? {}), ...Object.keys(configMap.binaryData ?? {})];
    if (!keys.includes(settings.key)) {
      const has = keys.length ? `its keys are ${keys.slice(0, 10).map((k) => JSON.stringify(k)).join(', ')}${keys.length > 10 ? ', ...' : ''}` : 'it has no keys';
      return denied(
        `ConfigMap ${JSON.stringify(settings.configMap)} in namespace ${JSON.stringify(namespace)} has no key ${JSON.stringify(settings.key)} (${has}): add your Spicepod under that key, or set spice.ai/spicepod-key to the key that holds it`,
      );
    }

    report({ ...base, namespace, pod, result: 'allowed', reason: `injected ${settings.image} with ConfigMap ${settings.configMap}` });
    return allowWithPatch(uid, injectionPatch(meta.value, spec, settings, options.telemetryProperties));
  };
}

/** The injector as a fetch handler: `POST /mutate` (and `GET /health`) on any fetch runtime. */
export function createInjectionHandler(options: InjectionHandlerOptions): (request: Request) => Promise<Response> {
  const admit = createAdmission(options);
  const report = (reason: string) => {
    try {
      options.onAdmission?.({ result: 'error', reason });
    } catch {
      // observers must never change an answer
    }
  };
  const router = Router({
    catch: (error: unknown) => {
      report(`internal error: ${(error as Error)?.message ?? String(error)}`);
      return Response.json({ error: `internal error: ${(error as Error)?.message ?? String(error)}` }, { status: 500 });
    },
  });
  router
    .post(MUTATE_PATH, async (request: Request) => {
      const answer = await admit(await request.text());
      return Response.json(answer.body, { status: answer.status });
    })
    .get('/health', () => new Response('OK', { headers: { 'content-type': 'text/plain' } }))
    .all('*', (request: Request) => Response.json({ error: `no route for ${request.method} ${new URL(request.url).pathname}: the injector serves POST ${MUTATE_PATH}` }, { status: 404 }));
  return (request: Request) => router.fetch(request) as Promise<Response>;
}
