// The sidecar injector's I/O: its serving certificate (a CA and a leaf from
// core/pki, kept in a Secret in the operator namespace), the HTTPS server
// that runs functions/injection, and the MutatingWebhookConfiguration that
// points the API server at it.
//
// - The Secret is created only when missing and never blindly overwritten:
//   an unusable CA is reported, not replaced; a Secret without ca.key holds
//   a certificate someone else manages (e.g. cert-manager) and is only read.
// - Every replica serves; any of them renews (an update with a
//   resourceVersion precondition, so two replicas cannot both win) and the
//   others pick the result up on their next check.
// - The leaf is renewed at 2/3 of its lifetime and swapped into the running
//   server (setSecureContext); the CA is re-signed with its own key, so
//   leaves it issued keep verifying and the caBundle can change at any time.
// - Logs carry names, dates and fingerprints, never PEM or Secret data.
import type { KubeConfig } from '@kubernetes/client-node';
import { LABEL_MANAGED_BY, OPERATOR_NAME } from '../core/labels.ts';
import { canonicalJson } from '../core/manifests/hash.ts';
import { createServingMaterial, parseCertificate, planServingCertificate, renewalTime, renewedSecretData, renewServingMaterial, servingSecretData } from '../core/pki/index.ts';
import { MUTATE_PATH, createAdmission, createInjectionHandler, webhookConfiguration, type AdmissionOutcome, type ConfigMapData } from '../functions/injection/index.ts';
import type { InjectionDefaults, SidecarResources } from '../functions/injection/annotations.ts';
import { serveFetchTls, parseEndpoint, type FetchHandler, type TextRoute } from './http.ts';
import { KubeClient, isApiError, type KObject } from './kube/client.ts';
import type { Logger } from './log.ts';
import { realClock, type Clock, type Timer } from './clock.ts';
import type { OperatorMetrics } from './metrics.ts';

export const WEBHOOK_FIELD_MANAGER = 'spiceai-operator-webhook';
export const DEFAULT_WEBHOOK_SECRET = 'spiceai-operator-webhook-tls';
/** How often a replica re-reads the Secret and the configuration (renewals by others, edits). */
const CHECK_INTERVAL_MS = 10 * 60_000;
/** Deadline of the ConfigMap read inside an admission, well under the webhook timeout. */
const CONFIGMAP_READ_TIMEOUT_MS = 3_000;
/** An AdmissionReview carries one Pod; the API server caps objects at ~1.5 MiB. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const MANAGED_LABELS = { 'app.kubernetes.io/name': 'spiceai-operator', 'app.kubernetes.io/component': 'sidecar-injector', 'app.kubernetes.io/managed-by': 'spiceai-operator' };

type SecretClient = Pick<KubeClient, 'get' | 'create' | 'update'>;

export interface ServingCertificate {
  caPem: string;
  certPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
  renewAt: Date;
  fingerprint: string;
  /** false when the Secret has no ca.key: someone else issues and renews it. */
  managed: boolean;
}

export interface CertificateStoreOptions {
  client: SecretClient;
  namespace: string;
  secretName: string;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  log: Logger;
  /** Default the real clock. */
  clock?: Clock;
  /** Default 365. */
  leafValidityDays?: number;
  /** Default 3650. */
  caValidityDays?: number;
}

/**
 * Reads the webhook's Secret and makes it hold a usable, current serving
 * certificate for the given names, as core/pki's plan says
 * (serving-certificate-policy.ts): creates it when missing, re-issues the
 * certificate for the reasons a cluster node's is, re-signs a CA that is due
 * with its own key, never replaces a CA, and never writes a Secret without
 * ca.key. Writes carry the resourceVersion read, so of two replicas one wins
 * and the other re-reads.
 */
export async function ensureServingCertificate(o: CertificateStoreOptions): Promise<ServingCertificate> {
  const now = new Date((o.clock ?? realClock).now());
  const where = `Secret ${o.namespace}/${o.secretName}`;
  const wanted = { dnsNames: o.dnsNames, ipAddresses: o.ipAddresses };
  const identity = { commonName: o.commonName, wanted, now, leafValidityDays: o.leafValidityDays, caValidityDays: o.caValidityDays };

  for (let attempt = 0; attempt < 5; attempt++) {
    const secret = (await o.client.get('v1', 'Secret', o.namespace, o.secretName)) as (KObject & { data?: Record<string, string> }) | undefined;
    const plan = await planServingCertificate({ secret, wanted, now });
    switch (plan.action) {
      case 'report':
        throw new Error(`${where} ${plan.message}`);
      case 'serve':
        return describe(plan.material, false);
      case 'keep':
        return describe(plan.material, true);
      case 'create': {
        const material = await createServingMaterial(identity);
        try {
          await o.client.create({
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: o.secretName, namespace: o.namespace, labels: MANAGED_LABELS },
            type: 'kubernetes.io/tls',
            data: servingSecretData(material),
          } as KObject);
        } catch (error) {
          if (isApiError(error, 409)) continue; // another replica created it first: use theirs
          throw error;
        }
        o.log.info('webhook certificate created', { secret: where });
        return describe(material, true);
      }
      case 'renew': {
        const material = await renewServingMaterial(plan.material, { renewCA: !!plan.renewCA, reissueLeaf: !!plan.reissueLeaf }, identity);
        try {
          await o.client.update({ ...secret!, data: renewedSecretData(secret!.data, material) }); // resourceVersion from the read: a concurrent renewal wins, we re-read
        } catch (error) {
          if (isApiError(error, 409)) continue;
          throw error;
        }
        const reasons = [plan.renewCA, plan.reissueLeaf].filter((v) => v !== undefined).map((v) => `${v.reason}: ${v.message}`);
        o.log.info('webhook certificate renewed', { secret: where, reasons });
        return describe(material, true);
      }
    }
  }
  throw new Error(`${where} kept changing while the operator was updating it; giving up for now`);
}

async function describe({ caPem, certPem, keyPem }: { caPem: string; certPem: string; keyPem: string }, managed: boolean): Promise<ServingCertificate> {
  const leaf = await parseCertificate(certPem);
  return {
    caPem,
    certPem,
    keyPem,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    renewAt: renewalTime(leaf.notBefore, leaf.notAfter),
    fingerprint: leaf.fingerprintSha256,
    managed,
  };
}

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

/** The URL with port 0 replaced by the bound port. */
export function resolveWebhookUrl(url: string, port: number): string {
  const u = new URL(url);
  if (u.port === '0') u.port = String(port);
  return u.toString();
}

/** DNS names the API server may dial: the Service, and the URL's host when registering by URL. */
export function servingNames(o: { serviceName: string; operatorNamespace: string; clusterDomain: string; url?: string }): { dnsNames: string[]; ipAddresses: string[] } {
  const svc = `${o.serviceName}.${o.operatorNamespace}`;
  const dnsNames = [o.serviceName, svc, `${svc}.svc`, `${svc}.svc.${o.clusterDomain}`];
  const ipAddresses: string[] = [];
  if (o.url) {
    const host = new URL(o.url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (/^[\d.]+$/.test(host) || host.includes(':')) ipAddresses.push(host);
    else if (!dnsNames.includes(host)) dnsNames.push(host);
  }
  return { dnsNames, ipAddresses };
}

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
    const fields = { namespace: a.namespace, pod: a.pod, uid: a.uid, dryRun: a.dryRun, reason: a.reason };
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
      try {
        return await handler(request);
      } finally {
        observe(started);
      }
    },
    mutate: async (text) => {
      const started = performance.now();
      try {
        const answer = await admit(text);
        return { status: answer.status, body: JSON.stringify(answer.body) };
      } finally {
        observe(started);
      }
    },
  };
}

/** Starts serving the injector and registers it with the API server. */
export async function startWebhook(o: WebhookOptions): Promise<RunningWebhook> {
  const log = o.log.child({ component: 'sidecar-injector' });
  const clock = o.clock ?? realClock;
  const secretName = o.secretName ?? DEFAULT_WEBHOOK_SECRET;
  const names = servingNames(o);
  const ensure = () =>
    ensureServingCertificate({
      client: o.client,
      namespace: o.operatorNamespace,
      secretName,
      commonName: `${o.serviceName}.${o.operatorNamespace}.svc`,
      ...names,
      log,
      clock,
    });
  let current = await ensure();
  o.metrics.webhookCertificateExpiry.set(current.notAfter.getTime() / 1000);

  // Admissions read ConfigMaps on their own connection pool with a short deadline.
  const reader = new KubeClient(o.kubeConfig, { timeoutMs: CONFIGMAP_READ_TIMEOUT_MS, userAgent: 'spiceai-operator (sidecar-injector)', onRequest: o.metrics.onRequest });
  const getConfigMap = async (namespace: string, name: string): Promise<ConfigMapData | undefined> => {
    const cm = (await reader.get('v1', 'ConfigMap', namespace, name)) as (KObject & ConfigMapData) | undefined;
    return cm && { data: cm.data, binaryData: cm.binaryData };
  };
  const served = createWebhookHandler({
    defaults: { image: o.defaultImage, imagePullPolicy: o.defaultImagePullPolicy, resources: o.defaultResources },
    operatorNamespace: o.operatorNamespace,
    telemetryProperties: o.telemetryProperties,
    getConfigMap,
    metrics: o.metrics,
    log,
  });

  const server = await serveFetchTls(served.fetch, o.endpoint, current, { maxBodyBytes: MAX_BODY_BYTES, textRoutes: { [`POST ${MUTATE_PATH}`]: served.mutate } });
  const url = o.url ? resolveWebhookUrl(o.url, server.port) : undefined;

  const desired = (caPem: string, ownedByOperator: boolean) =>
    webhookConfiguration({
      ownedByOperator,
      name: o.configurationName,
      operatorNamespace: o.operatorNamespace,
      namespaces: o.namespaces,
      caBundlePem: caPem,
      ...(url ? { url } : { service: { name: o.serviceName, namespace: o.operatorNamespace, path: MUTATE_PATH } }),
    });
  /** Applies the configuration when what we own in it differs (so a restart writes nothing). */
  const reconcileConfiguration = async (caPem: string) => {
    const have = (await o.client.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', undefined, o.configurationName)) as
      | (KObject & { webhooks?: Record<string, unknown>[] })
      | undefined;
    // Rendered by the Helm chart (so that uninstall removes it): keep it current, leave its ownership alone.
    const want = desired(caPem, !have || have.metadata.labels?.[LABEL_MANAGED_BY] === OPERATOR_NAME);
    if (have && configurationMatches(have, want)) return;
    await o.client.apply(want as unknown as KObject, { fieldManager: WEBHOOK_FIELD_MANAGER, force: true });
    log.info('webhook configuration applied', { configuration: o.configurationName, ...(url ? { url } : { service: `${o.serviceName}.${o.operatorNamespace}` }) });
  };
  try {
    await reconcileConfiguration(current.caPem);
  } catch (error) {
    await server.close();
    reader.close();
    throw error;
  }
  const { host } = parseEndpoint(o.endpoint);
  log.info('webhook serving', {
    webhook: `${host}:${server.port}`,
    configuration: o.configurationName,
    ...(url ? { url } : { service: `${o.serviceName}.${o.operatorNamespace}.svc` }),
    certificateNotAfter: current.notAfter.toISOString(),
    renewAt: current.renewAt.toISOString(),
  });

  const check = async () => {
    const next = await ensure();
    if (next.caPem !== current.caPem) await reconcileConfiguration(next.caPem); // trust the new CA before serving from it
    if (next.fingerprint !== current.fingerprint) {
      server.setCertificate(next);
      log.info('webhook certificate reloaded', { notAfter: next.notAfter.toISOString(), renewAt: next.renewAt.toISOString(), fingerprint: next.fingerprint.slice(0, 16) });
    }
    current = next;
    o.metrics.webhookCertificateExpiry.set(current.notAfter.getTime() / 1000);
    await reconcileConfiguration(current.caPem);
  };

  let stopped = false;
  let timer: Timer | undefined;
  let failures = 0;
  const schedule = () => {
    const interval = o.checkIntervalMs ?? CHECK_INTERVAL_MS;
    const untilRenewal = current.renewAt.getTime() - clock.now();
    // After a failure: 30 s, doubling up to the interval (the certificate still has a third of its life).
    const delay = failures ? Math.min(interval, 30_000 * 2 ** (failures - 1)) : Math.max(1000, Math.min(interval, untilRenewal));
    timer = clock.setTimeout(tick, delay);
    timer.unref();
  };
  const tick = async () => {
    try {
      await check();
      failures = 0;
    } catch (error) {
      failures++;
      log.error('webhook certificate check failed; retrying', { error, failures });
    }
    if (!stopped) schedule();
  };
  schedule();

  return {
    port: server.port,
    url,
    certificate: () => current,
    check,
    async stop() {
      stopped = true;
      clock.clearTimeout(timer);
      await server.close();
      reader.close();
    },
  };
}

/** True when every field we set in each of our webhooks already has the value we want. */
function configurationMatches(have: { webhooks?: Record<string, unknown>[] }, want: { webhooks: Record<string, unknown>[] }): boolean {
  if ((have.webhooks ?? []).length !== want.webhooks.length) return false;
  return want.webhooks.every((w) => {
    const h = have.webhooks!.find((x) => x.name === w.name);
    return !!h && Object.keys(w).every((k) => canonicalJson(h[k]) === canonicalJson(w[k]));
  });
}

/**
 * With the injector turned off, removes the configuration we created, so Pod
 * creation does not call a webhook nobody serves. One created by someone
 * else (no managed-by label of ours) is left alone.
 */
export async function removeWebhookConfiguration(client: KubeClient, name: string, log: Logger): Promise<void> {
  try {
    const have = await client.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', undefined, name);
    if (!have || have.metadata.labels?.[LABEL_MANAGED_BY] !== OPERATOR_NAME) return;
    await client.delete('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', undefined, name, { uid: have.metadata.uid });
    log.info('sidecar injector disabled: webhook configuration removed', { configuration: name });
  } catch (error) {
    log.warn('sidecar injector disabled, but its webhook configuration could not be checked or removed', { configuration: name, error });
  }
}

/** What `run` passes to the operator about the injector. */
export type SidecarInjectorOptions = { enabled: boolean } & Pick<
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
  if (!o.enabled) {
    await removeWebhookConfiguration(o.client, o.configurationName, o.log);
    return undefined;
  }
  return startWebhook({
    ...o,
    operatorNamespace: o.config.operatorNamespace,
    clusterDomain: o.config.clusterDomain,
    telemetryProperties: o.config.telemetryProperties,
  });
}
