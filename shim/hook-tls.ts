// TLS of hook calls from the operator's own CA (`run --handler-service`):
// the CA the webhook's serving certificate comes from (its Secret,
// `--webhook-secret`, created here when missing, exactly as the webhook
// would), a serving certificate for each hook Service's DNS names in a Secret
// the hook Deployment mounts (`<service>-tls`: tls.crt, tls.key and ca.crt,
// never the CA's key), and a client certificate the operator presents, kept in
// memory and never written anywhere. The hook (`serve --client-ca ca.crt`)
// then accepts the operator only, and the operator trusts the hook only.
//
// Renewal by the same leaf chain as the webhook's certificate
// (core/pki/leaf-policy.ts via core/pki/hook-certificate-policy.ts), checked
// at the earliest renewal time and at least every check interval (a CA
// re-signed by the webhook's store, a Secret deleted or edited). Any replica
// may write; writes carry the resourceVersion read, so of two one wins and the
// other re-reads. Logs carry names, dates and reasons, never PEM.
import {
  issueLeaf,
  parseCertificate,
  planHookCertificate,
  readServingSecret,
  renewalTime,
  reviewLeaf,
  HOOK_SECRET_KEYS,
  type SubjectAltNames,
} from '../core/pki/index.ts';
import { encodeBase64 } from '../core/base64.ts';
import { LABEL_MANAGED_BY, OPERATOR_NAME } from '../core/labels.ts';
import { realClock, type Clock, type Timer } from './clock.ts';
import { type KubeClient, type KObject, written } from './kube/client.ts';
import type { Logger } from './log.ts';
import { ensureServingCertificate, servingNames, webhookCertificateStore, type CertificateStoreOptions } from './webhook/index.ts';

/** The Secret a hook Service's certificate is kept in. */
export const hookSecretName = (serviceName: string) => `${serviceName}-tls`;
/** The name in the operator's client certificate. */
export const HOOK_CLIENT_NAME = 'spiceai-operator';
const CLIENT_NAMES: SubjectAltNames = { dnsNames: [HOOK_CLIENT_NAME], ipAddresses: [] };
const LEAF_VALIDITY_DAYS = 365;
const CHECK_INTERVAL_MS = 10 * 60_000;
const FIRST_RETRY_MS = 30_000;
const WRITE_ATTEMPTS = 5;
const HOOK_LABELS = {
  'app.kubernetes.io/name': 'spiceai-operator',
  'app.kubernetes.io/component': 'hook',
  [LABEL_MANAGED_BY]: OPERATOR_NAME,
};

/** What a hook client presents and trusts. */
export interface HookTls {
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

export interface HookTlsOptions {
  client: Pick<KubeClient, 'get' | 'create' | 'update'>;
  operatorNamespace: string;
  clusterDomain: string;
  /** Where the operator's CA is kept: the webhook's Secret and Service (`run --webhook-secret`, `--webhook-service`, `--webhook-url`). */
  webhook: { serviceName: string; secretName?: string; url?: string };
  /** Each hooked handler's Service (in the operator namespace) and the URL the operator dials (its host is named in the certificate too). */
  hooks: Record<string, { serviceName: string; url: string }>;
  log: Logger;
  clock?: Clock;
  checkIntervalMs?: number;
}

export interface RunningHookTls {
  /** The CA and client certificate hook clients use now. */
  current(): HookTls;
  /** Called with the new material whenever the CA or the client certificate changes. */
  onChange(listener: (tls: HookTls) => void): void;
  /** Re-reads the CA and every hook Secret now (what the timer does). */
  check(): Promise<void>;
  stop(): void;
}

/** The names a hook's serving certificate carries: the Service's DNS names and the dialled URL's host. */
export function hookServingNames(o: {
  serviceName: string;
  operatorNamespace: string;
  clusterDomain: string;
  url: string;
}): SubjectAltNames {
  return servingNames(o);
}

/** The operator's CA (certificate and key) from the webhook's Secret, created when missing. */
async function operatorCA(o: HookTlsOptions, clock: Clock, log: Logger): Promise<{ certPem: string; keyPem: string }> {
  const store: CertificateStoreOptions = webhookCertificateStore({
    ...o.webhook,
    operatorNamespace: o.operatorNamespace,
    clusterDomain: o.clusterDomain,
    client: o.client,
    log,
    clock,
  });
  await ensureServingCertificate(store);
  const secret = (await o.client.get('v1', 'Secret', store.namespace, store.secretName)) as
    | (KObject & { data?: Record<string, string> })
    | undefined;
  const material = readServingSecret(secret?.data);
  if (!material.caPem || !material.caKeyPem) {
    throw new Error(
      `--handler-service: Secret ${store.namespace}/${store.secretName} holds no ca.key (its certificate is issued elsewhere, e.g. by cert-manager), so the operator has no CA of its own to issue hook certificates from: give the hooks certificates yourself (--handler-ca, --handler-client-cert, --handler-client-key) instead`,
    );
  }
  return { certPem: material.caPem, keyPem: material.caKeyPem };
}

/** Makes the hook's Secret hold a current serving certificate from `ca` and `ca.crt`; returns when it is next due. */
export async function ensureHookCertificate(o: {
  client: Pick<KubeClient, 'get' | 'create' | 'update'>;
  namespace: string;
  secretName: string;
  commonName: string;
  wanted: SubjectAltNames;
  ca: { certPem: string; keyPem: string };
  now: Date;
  log: Logger;
}): Promise<{ renewAt: Date }> {
  const where = `Secret ${o.namespace}/${o.secretName}`;
  const issue = async () => {
    const leaf = await issueLeaf({ ca: o.ca, commonName: o.commonName, ...o.wanted, validityDays: LEAF_VALIDITY_DAYS, now: o.now });
    return { [HOOK_SECRET_KEYS.certPem]: encodeBase64(leaf.certPem), [HOOK_SECRET_KEYS.keyPem]: encodeBase64(leaf.keyPem!) };
  };
  const due = async (certPem: string) => {
    const info = await parseCertificate(certPem);
    return { renewAt: renewalTime(info.notBefore, info.notAfter) };
  };
  const trust = { [HOOK_SECRET_KEYS.caPem]: encodeBase64(o.ca.certPem) };
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const secret = (await o.client.get('v1', 'Secret', o.namespace, o.secretName)) as
      | (KObject & { data?: Record<string, string> })
      | undefined;
    const plan = await planHookCertificate({
      secret,
      managedBy: [LABEL_MANAGED_BY, OPERATOR_NAME],
      caPem: o.ca.certPem,
      wanted: o.wanted,
      now: o.now,
    });
    switch (plan.action) {
      case 'report':
        throw new Error(`${where} ${plan.message}`);
      case 'keep':
        return due(plan.certPem);
      case 'create': {
        const data: Record<string, string> = { ...(await issue()), ...trust };
        const created = {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: o.secretName, namespace: o.namespace, labels: HOOK_LABELS },
          type: 'kubernetes.io/tls',
          data,
        } as KObject;
        if (!(await written(() => o.client.create(created)))) continue;
        o.log.info('hook certificate created', { secret: where, names: [...o.wanted.dnsNames, ...o.wanted.ipAddresses] });
        return due(Buffer.from(data[HOOK_SECRET_KEYS.certPem]!, 'base64').toString('utf8'));
      }
      case 'renew': {
        const leaf = plan.reissueLeaf ? await issue() : {};
        const data: Record<string, string> = { ...secret!.data, ...leaf, ...trust };
        if (!(await written(() => o.client.update({ ...secret!, data })))) continue;
        const reasons = [plan.reissueLeaf, plan.trust].filter((v) => v !== undefined).map((v) => `${v.reason}: ${v.message}`);
        o.log.info('hook certificate renewed', { secret: where, reasons });
        return due(Buffer.from(data[HOOK_SECRET_KEYS.certPem]!, 'base64').toString('utf8'));
      }
    }
  }
  throw new Error(`${where} kept changing while the operator was updating it; giving up for now`);
}

/** The operator's client certificate: kept while the leaf chain finds nothing wrong with it, else issued anew. */
async function clientCertificate(
  have: HookTls | undefined,
  ca: { certPem: string; keyPem: string },
  now: Date,
): Promise<{ certPem: string; keyPem: string; renewAt: Date }> {
  if (have) {
    const { verdict, info } = await reviewLeaf({
      certPem: have.clientCertPem,
      keyPem: have.clientKeyPem,
      wanted: CLIENT_NAMES,
      issuerPem: ca.certPem,
      now,
    });
    if (!verdict && info)
      return { certPem: have.clientCertPem, keyPem: have.clientKeyPem, renewAt: renewalTime(info.notBefore, info.notAfter) };
  }
  const leaf = await issueLeaf({ ca, commonName: HOOK_CLIENT_NAME, ...CLIENT_NAMES, validityDays: LEAF_VALIDITY_DAYS, now });
  const info = await parseCertificate(leaf.certPem);
  return { certPem: leaf.certPem, keyPem: leaf.keyPem!, renewAt: renewalTime(info.notBefore, info.notAfter) };
}

/** Issues (or reads) every hook's certificate and the operator's client certificate, and keeps them current. */
export async function startHookTls(o: HookTlsOptions): Promise<RunningHookTls> {
  const clock = o.clock ?? realClock;
  const log = o.log.child({ component: 'hook-tls' });
  const interval = o.checkIntervalMs ?? CHECK_INTERVAL_MS;
  const listeners: ((tls: HookTls) => void)[] = [];
  let current: HookTls | undefined;
  let renewAt = new Date(clock.now() + interval);

  const refresh = async () => {
    const now = new Date(clock.now());
    const ca = await operatorCA(o, clock, log);
    const client = await clientCertificate(current, ca, now);
    let next = client.renewAt;
    for (const [handler, hook] of Object.entries(o.hooks)) {
      const r = await ensureHookCertificate({
        client: o.client,
        namespace: o.operatorNamespace,
        secretName: hookSecretName(hook.serviceName),
        commonName: `${hook.serviceName}.${o.operatorNamespace}.svc`,
        wanted: hookServingNames({ ...hook, operatorNamespace: o.operatorNamespace, clusterDomain: o.clusterDomain }),
        ca,
        now,
        log: log.child({ handler }),
      });
      if (r.renewAt < next) next = r.renewAt;
    }
    renewAt = next;
    const changed = !current || current.caPem !== ca.certPem || current.clientCertPem !== client.certPem;
    current = { caPem: ca.certPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem };
    if (changed) for (const l of listeners) l(current);
  };
  await refresh();
  log.info('hook certificates current', {
    hooks: Object.values(o.hooks).map((h) => hookSecretName(h.serviceName)),
    renewAt: renewAt.toISOString(),
  });

  let timer: Timer | undefined;
  let stopped = false;
  let failures = 0;
  const schedule = () => {
    const delay = failures
      ? Math.min(interval, FIRST_RETRY_MS * 2 ** (failures - 1))
      : Math.max(1000, Math.min(interval, renewAt.getTime() - clock.now()));
    timer = clock.setTimeout(tick, delay);
    timer.unref();
  };
  const tick = async () => {
    try {
      await refresh();
      failures = 0;
    } catch (error) {
      failures++;
      log.error('hook certificate check failed; retrying', { error, failures });
    }
    if (!stopped) schedule();
  };
  schedule();
  return {
    current: () => current!,
    onChange: (l) => listeners.push(l),
    check: refresh,
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
