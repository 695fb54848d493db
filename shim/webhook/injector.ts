// The sidecar injector as the operator runs it: its serving certificate in a
// Secret of the operator namespace (serving-certificate-store.ts), the HTTPS
// server (injector-server.ts), the MutatingWebhookConfiguration that points
// the API server at it, kept trusting the CA (ca-bundle.ts), and the timer
// that renews and swaps the certificate (certificate-rotation.ts).
//
// Every replica serves; any of them renews and the others pick the result up
// on their next check. Logs carry names, dates and fingerprints, never PEM or
// Secret data.
import type { KubeConfig } from '@kubernetes/client-node';
import { LABEL_MANAGED_BY, OPERATOR_NAME } from '../../core/labels.ts';
import { MUTATE_PATH, webhookConfiguration } from '../../functions/injection/index.ts';
import type { SidecarResources } from '../../functions/injection/annotations.ts';
import { parseEndpoint } from '../http.ts';
import type { KubeClient } from '../kube/client.ts';
import type { Logger } from '../log.ts';
import { realClock, type Clock } from '../clock.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { caBundleKeeper, webhookConfigurationTarget, type CaBundleTarget } from './ca-bundle.ts';
import {
  conversionRoute,
  crdWebhookTargets,
  DEFAULT_VALIDATING_CONFIGURATION,
  storageClassLookup,
  validationRoute,
} from '../crd-webhooks.ts';
import type { Level } from '../../functions/validation/index.ts';
import type { TextRoute } from '../http.ts';
import { rotateCertificate } from './certificate-rotation.ts';
import { resolveWebhookUrl, servingNames } from './endpoint.ts';
import { serveInjector } from './injector-server.ts';
import { ensureServingCertificate, type CertificateStoreOptions, type ServingCertificate } from './serving-certificate-store.ts';

export const WEBHOOK_FIELD_MANAGER = 'spiceai-operator-webhook';
export const DEFAULT_WEBHOOK_SECRET = 'spiceai-operator-webhook-tls';
const MANAGED_LABELS = {
  'app.kubernetes.io/name': 'spiceai-operator',
  'app.kubernetes.io/component': 'sidecar-injector',
  [LABEL_MANAGED_BY]: OPERATOR_NAME,
};
const CONFIGURATION_API = 'admissionregistration.k8s.io/v1';
const CONFIGURATION_KIND = 'MutatingWebhookConfiguration';

export interface WebhookOptions {
  kubeConfig: KubeConfig;
  /** For the Secret and the configuration. */
  client: KubeClient;
  log: Logger;
  metrics: OperatorMetrics;
  operatorNamespace: string;
  clusterDomain: string;
  /** Namespaces to inject in (`run --namespaces`); empty means all. */
  namespaces: string[];
  endpoint: string;
  serviceName: string;
  configurationName: string;
  secretName?: string;
  /** Register the webhook by URL instead of Service; port 0 means the port actually bound. */
  url?: string;
  defaultImage: string;
  defaultImagePullPolicy: string;
  /** Resources of injected sidecars whose annotations set none. */
  defaultResources?: SidecarResources;
  telemetryProperties: Record<string, string>;
  /** The certificate's checks and their timer. Default the real clock. */
  clock?: Clock;
  checkIntervalMs?: number;
  /** Serve the injector (`/mutate`) and keep its MutatingWebhookConfiguration (default true). */
  injector?: boolean;
  /** More routes on the same server, given the short-deadline reader admissions use. */
  routes?: (reader: KubeClient) => Record<string, TextRoute>;
  /** More objects whose caBundle names the webhook CA, given the URL registered (port 0 resolved) when registering by URL. */
  caBundleTargets?: (url: string | undefined) => CaBundleTarget[];
}

export interface RunningWebhook {
  port: number;
  /** The URL registered, when registering by URL. */
  url?: string;
  certificate(): ServingCertificate;
  /** Re-reads the Secret and the configuration now (what the timer does). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

/** The injector's own MutatingWebhookConfiguration, trusting the webhook CA; none when the injector is off. */
function injectorTargets(o: WebhookOptions, url: string | undefined): CaBundleTarget[] {
  if (!(o.injector ?? true)) return [];
  return [
    webhookConfigurationTarget({
      kind: CONFIGURATION_KIND,
      name: o.configurationName,
      render: (caPem, ownedByOperator) =>
        webhookConfiguration({
          ownedByOperator,
          name: o.configurationName,
          operatorNamespace: o.operatorNamespace,
          namespaces: o.namespaces,
          caBundlePem: caPem,
          ...(url ? { url } : { service: { name: o.serviceName, namespace: o.operatorNamespace, path: MUTATE_PATH } }),
        }),
      logFields: url ? { url } : { service: `${o.serviceName}.${o.operatorNamespace}` },
    }),
  ];
}

/**
 * Where the webhook's serving certificate and the operator's own CA are kept: the Secret, the names,
 * the labels of a Secret created. The hook certificates (shim/hook-tls.ts) are issued from this CA.
 */
export function webhookCertificateStore(
  o: Pick<WebhookOptions, 'operatorNamespace' | 'clusterDomain' | 'serviceName' | 'secretName' | 'url'> & {
    client: CertificateStoreOptions['client'];
    log: Logger;
    clock: Clock;
  },
): CertificateStoreOptions {
  return {
    client: o.client,
    namespace: o.operatorNamespace,
    secretName: o.secretName ?? DEFAULT_WEBHOOK_SECRET,
    commonName: `${o.serviceName}.${o.operatorNamespace}.svc`,
    ...servingNames(o),
    labels: MANAGED_LABELS,
    log: o.log,
    clock: o.clock,
  };
}

/** Starts serving the injector and registers it with the API server. */
export async function startWebhook(o: WebhookOptions): Promise<RunningWebhook> {
  const log = o.log.child({ component: 'sidecar-injector' });
  const clock = o.clock ?? realClock;
  const ensure = () => ensureServingCertificate(webhookCertificateStore({ ...o, log, clock }));
  const first = await ensure();
  const recordExpiry = (c: ServingCertificate) => o.metrics.webhookCertificateExpiry.set(c.notAfter.getTime() / 1000);
  recordExpiry(first);

  const server = await serveInjector({
    kubeConfig: o.kubeConfig,
    endpoint: o.endpoint,
    certificate: first,
    defaults: { image: o.defaultImage, imagePullPolicy: o.defaultImagePullPolicy, resources: o.defaultResources },
    operatorNamespace: o.operatorNamespace,
    telemetryProperties: o.telemetryProperties,
    metrics: o.metrics,
    log,
    injector: o.injector,
    routes: o.routes,
  });
  const url = o.url ? resolveWebhookUrl(o.url, server.port) : undefined;
  const trustCA = caBundleKeeper({
    client: o.client,
    fieldManager: WEBHOOK_FIELD_MANAGER,
    log,
    targets: [...injectorTargets(o, url), ...(o.caBundleTargets?.(url) ?? [])],
  });
  try {
    await trustCA(first.caPem);
  } catch (error) {
    await server.close();
    throw error;
  }
  log.info('webhook serving', {
    webhook: `${parseEndpoint(o.endpoint).host}:${server.port}`,
    configuration: o.configurationName,
    ...(url ? { url } : { service: `${o.serviceName}.${o.operatorNamespace}.svc` }),
    certificateNotAfter: first.notAfter.toISOString(),
    renewAt: first.renewAt.toISOString(),
  });

  const rotation = rotateCertificate({
    first,
    ensure,
    trustCA,
    serve: (c) => server.setCertificate(c),
    onCurrent: recordExpiry,
    clock,
    checkIntervalMs: o.checkIntervalMs,
    log,
  });
  return {
    port: server.port,
    url,
    certificate: rotation.certificate,
    check: rotation.check,
    async stop() {
      rotation.stop();
      await server.close();
    },
  };
}

/**
 * With the injector turned off, removes the configuration we created, so Pod
 * creation does not call a webhook nobody serves. One created by someone
 * else (no managed-by label of ours) is left alone.
 */
export async function removeWebhookConfiguration(client: KubeClient, name: string, log: Logger): Promise<void> {
  try {
    const have = await client.get(CONFIGURATION_API, CONFIGURATION_KIND, undefined, name);
    if (!have || have.metadata.labels?.[LABEL_MANAGED_BY] !== OPERATOR_NAME) return;
    await client.delete(CONFIGURATION_API, CONFIGURATION_KIND, undefined, name, { uid: have.metadata.uid });
    log.info('sidecar injector disabled: webhook configuration removed', { configuration: name });
  } catch (error) {
    log.warn('sidecar injector disabled, but its webhook configuration could not be checked or removed', { configuration: name, error });
  }
}

/** What `run` passes to the operator about the injector and the CRD webhooks it serves beside it. */
export type SidecarInjectorOptions = {
  enabled: boolean;
  /** Serve CRD conversion and validation on the same server and keep their caBundles (default true). */
  crdWebhooks?: boolean;
  /** `run --admission-policy` (default err). */
  admissionPolicy?: Level;
  /** `run --validating-webhook-configuration`. */
  validatingConfigurationName?: string;
} & Pick<
  WebhookOptions,
  'endpoint' | 'serviceName' | 'configurationName' | 'secretName' | 'url' | 'defaultImage' | 'defaultImagePullPolicy' | 'defaultResources'
>;

/** The injector as the operator runs it: started when enabled, its configuration removed when not. */
export async function startSidecarInjector(
  o: SidecarInjectorOptions & {
    kubeConfig: KubeConfig;
    client: KubeClient;
    log: Logger;
    metrics: OperatorMetrics;
    config: { operatorNamespace: string; clusterDomain: string; telemetryProperties: Record<string, string> };
    namespaces: string[];
    clock?: Clock;
  },
): Promise<RunningWebhook | undefined> {
  if (!o.enabled) await removeWebhookConfiguration(o.client, o.configurationName, o.log);
  const crdWebhooks = o.crdWebhooks ?? true;
  if (!o.enabled && !crdWebhooks) return undefined;
  const crdLog = o.log.child({ component: 'crd-webhooks' });
  return startWebhook({
    ...o,
    injector: o.enabled,
    routes: (reader) =>
      crdWebhooks
        ? {
            ...conversionRoute(crdLog),
            ...validationRoute({ level: o.admissionPolicy ?? 'err', storageClassExists: storageClassLookup(reader), log: crdLog }),
          }
        : {},
    caBundleTargets: (url) =>
      crdWebhooks
        ? crdWebhookTargets({
            serviceName: o.serviceName,
            operatorNamespace: o.config.operatorNamespace,
            url,
            validatingConfigurationName: o.validatingConfigurationName ?? DEFAULT_VALIDATING_CONFIGURATION,
          })
        : [],
    operatorNamespace: o.config.operatorNamespace,
    clusterDomain: o.config.clusterDomain,
    telemetryProperties: o.config.telemetryProperties,
  });
}
