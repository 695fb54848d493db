// Keeps the caBundle of the objects that point the API server at a webhook
// the operator serves current with the webhook's CA: a list of targets, each
// saying how to read it, what to apply so it carries a CA, and when it
// already does. The sidecar injector's MutatingWebhookConfiguration is one;
// a ValidatingWebhookConfiguration is another (webhookConfigurationTarget
// takes either kind), and a CRD's spec.conversion.webhook.clientConfig.caBundle
// is one more CaBundleTarget of the same shape (shim/crd-webhooks.ts), written
// by an update (`write`).
//
// Applies only when a field the operator owns differs (so a restart writes
// nothing), server-side with the operator's field manager; fields of other
// managers (Helm's labels, say) stay theirs.
import { LABEL_MANAGED_BY, OPERATOR_NAME } from '../../core/labels.ts';
import { canonicalJson } from '../../core/manifests/hash.ts';
import type { KubeClient, KObject } from '../kube/client.ts';
import type { Logger } from '../log.ts';

export interface CaBundleTarget {
  apiVersion: string;
  kind: string;
  name: string;
  /** Namespace of a namespaced target; undefined for cluster-scoped ones (webhook configurations, CRDs). */
  namespace?: string;
  /** What to apply so the object carries `caPem`, given the object as read (undefined when absent); undefined: leave it alone. */
  desired(caPem: string, have: KObject | undefined): KObject | undefined;
  /** True when `have` already holds every field `want` sets: nothing is written. */
  isCurrent(have: KObject, want: KObject): boolean;
  /** Extra fields of the log line when it is applied (where it points). */
  logFields?: Record<string, unknown>;
  /**
   * How `want` is written, when a server-side apply cannot: a CRD's
   * conversion clientConfig switching between service and url must drop the
   * other, which another manager's field would keep. Default: apply.
   */
  write?: (client: Pick<KubeClient, 'update'>, want: KObject) => Promise<unknown>;
}

export interface CaBundleKeeperOptions {
  client: Pick<KubeClient, 'get' | 'apply' | 'update'>;
  /** The field manager of the applies. */
  fieldManager: string;
  log: Logger;
  targets: CaBundleTarget[];
}

/** Makes every target carry `caPem` (and what else the operator owns in it); writes only those that differ. */
export type CaBundleKeeper = (caPem: string) => Promise<void>;

export function caBundleKeeper(o: CaBundleKeeperOptions): CaBundleKeeper {
  return async (caPem) => {
    for (const target of o.targets) await keepTarget(o, target, caPem);
  };
}

async function keepTarget(o: CaBundleKeeperOptions, target: CaBundleTarget, caPem: string): Promise<void> {
  const have = await o.client.get(target.apiVersion, target.kind, target.namespace, target.name);
  const want = target.desired(caPem, have);
  if (!want || (have && target.isCurrent(have, want))) return;
  if (target.write) await target.write(o.client, want);
  else await o.client.apply(want, { fieldManager: o.fieldManager, force: true });
  o.log.info('webhook configuration applied', { kind: target.kind, configuration: target.name, ...target.logFields });
}

type WebhookConfiguration = KObject & { webhooks: Record<string, unknown>[] };

/**
 * A Mutating- or ValidatingWebhookConfiguration, rendered whole by `render`
 * with the CA. One rendered by someone else (the Helm chart, so that
 * uninstall removes it) is kept current but stays theirs: `ownedByOperator`
 * is false unless it is missing or already carries our managed-by label.
 */
export function webhookConfigurationTarget(o: {
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  name: string;
  render(caPem: string, ownedByOperator: boolean): { webhooks: Record<string, unknown>[] };
  logFields?: Record<string, unknown>;
}): CaBundleTarget {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: o.kind,
    name: o.name,
    desired: (caPem, have) => o.render(caPem, !have || have.metadata.labels?.[LABEL_MANAGED_BY] === OPERATOR_NAME) as unknown as KObject,
    isCurrent: (have, want) => webhooksMatch(have as WebhookConfiguration, want as WebhookConfiguration),
    logFields: o.logFields,
  };
}

/** True when every field we set in each of our webhooks already has the value we want. */
export function webhooksMatch(have: { webhooks?: Record<string, unknown>[] }, want: { webhooks: Record<string, unknown>[] }): boolean {
  if ((have.webhooks ?? []).length !== want.webhooks.length) return false;
  return want.webhooks.every((w) => {
    const h = have.webhooks!.find((x) => x.name === w.name);
    return !!h && Object.keys(w).every((k) => canonicalJson(h[k]) === canonicalJson(w[k]));
  });
}
