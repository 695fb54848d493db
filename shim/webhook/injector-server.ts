// The sidecar injector's HTTPS server: functions/injection served over TLS
// with its admissions counted, timed and logged (names and reasons only),
// and the one read an admission makes (the Spicepod ConfigMap) on its own
// connection pool with a short deadline.
import type { KubeConfig } from '@kubernetes/client-node';
import {
  MUTATE_PATH,
  createAdmission,
  createInjectionHandler,
  type AdmissionOutcome,
  type ConfigMapData,
} from '../../functions/injection/index.ts';
import type { InjectionDefaults } from '../../functions/injection/annotations.ts';
import { serveFetchTls, type FetchHandler, type TextRoute, type TlsCertificate } from '../http.ts';
import { KubeClient, type KObject } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import type { OperatorMetrics } from '../metrics.ts';

/** Deadline of the ConfigMap read inside an admission, well under the webhook timeout. */
const CONFIGMAP_READ_TIMEOUT_MS = 3_000;
/** An AdmissionReview carries one Pod; the API server caps objects at ~1.5 MiB. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The injector as served: functions/injection with its admissions counted,
 * timed and logged (names and reasons only). `getConfigMap` is the one read.
 * `fetch` is the whole fetch handler (health, 404s); `mutate` is the same
 * admission for the server's text route, without Request/Response objects.
 */
export function createWebhookHandler(o: {
  defaults: InjectionDefaults;
  operatorNamespace: string;
  telemetryProperties: Record<string, string>;
  getConfigMap: (namespace: string, name: string) => Promise<ConfigMapData | undefined>;
  metrics: OperatorMetrics;
  log: Logger;
}): { fetch: FetchHandler; mutate: TextRoute } {
  const onAdmission = (a: AdmissionOutcome) => {
    o.metrics.webhookAdmissions.inc({ result: a.result });
    const fields = { namespace: a.namespace, pod: a.pod, uid: a.uid, dryRun: a.dryRun, code: a.code, reason: a.reason };
    if (a.result === 'allowed') o.log.info('sidecar injected', fields);
    else if (a.result === 'denied') o.log.info('admission denied', fields);
    else if (a.result === 'error') o.log.warn('admission failed', fields);
    else o.log.debug('admission skipped', fields);
  };
  const options = {
    defaults: o.defaults,
    operatorNamespace: o.operatorNamespace,
    telemetryProperties: o.telemetryProperties,
    getConfigMap: o.getConfigMap,
    onAdmission,
  };
  const handler = createInjectionHandler(options);
  const admit = createAdmission(options);
  const observe = (started: number) => o.metrics.webhookAdmissionDuration.observe((performance.now() - started) / 1000);
  return {
    fetch: async (request) => {
      if (!request.url.endsWith(MUTATE_PATH)) return handler(request); // health, 404s: not admissions
      const started = performance.now();
      const served = o.metrics.webhookRequest(MUTATE_PATH);
      let code = 500;
      try {
        const response = await handler(request);
        code = response.status;
        return response;
      } finally {
        observe(started);
        served(code);
      }
    },
    mutate: async (text) => {
      const started = performance.now();
      const served = o.metrics.webhookRequest(MUTATE_PATH);
      let code = 500;
      try {
        const answer = await admit(text);
        code = answer.status;
        return { status: answer.status, body: JSON.stringify(answer.body) };
      } finally {
        observe(started);
        served(code);
      }
    },
  };
}

export interface InjectorServer {
  port: number;
  setCertificate(certificate: TlsCertificate): void;
  close(): Promise<void>;
}

/** Serves the injector on `endpoint` with `certificate` (swappable while running). */
export async function serveInjector(o: {
  kubeConfig: KubeConfig;
  endpoint: string;
  certificate: TlsCertificate;
  defaults: InjectionDefaults;
  operatorNamespace: string;
  telemetryProperties: Record<string, string>;
  metrics: OperatorMetrics;
  log: Logger;
  /** Serve the injector on /mutate (default true). */
  injector?: boolean;
  /** More routes on the same server ("POST /path" -> body text in, JSON text out), given the short-deadline reader. */
  routes?: (reader: KubeClient) => Record<string, TextRoute>;
}): Promise<InjectorServer> {
  const reader = new KubeClient(o.kubeConfig, {
    timeoutMs: CONFIGMAP_READ_TIMEOUT_MS,
    userAgent: 'spiceai-operator (sidecar-injector)',
    onRequest: o.metrics.onRequest,
  });
  const getConfigMap = async (namespace: string, name: string): Promise<ConfigMapData | undefined> => {
    const cm = (await reader.get('v1', 'ConfigMap', namespace, name)) as (KObject & ConfigMapData) | undefined;
    return cm && { data: cm.data, binaryData: cm.binaryData };
  };
  const served = createWebhookHandler({ ...o, getConfigMap });
  let server: Awaited<ReturnType<typeof serveFetchTls>>;
  try {
    const injector = o.injector ?? true;
    const fetch: FetchHandler = injector
      ? served.fetch
      : async (request) =>
          new URL(request.url).pathname === MUTATE_PATH ? new Response('not found\n', { status: 404 }) : served.fetch(request);
    const textRoutes = { ...(injector ? { [`POST ${MUTATE_PATH}`]: served.mutate } : {}), ...(o.routes?.(reader) ?? {}) };
    server = await serveFetchTls(fetch, o.endpoint, o.certificate, { maxBodyBytes: MAX_BODY_BYTES, textRoutes });
  } catch (error) {
    reader.close();
    throw error;
  }
  return {
    port: server.port,
    setCertificate: (certificate) => server.setCertificate(certificate),
    async close() {
      await server.close();
      reader.close();
    },
  };
}
