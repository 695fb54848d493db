// The MutatingWebhookConfiguration that sends Pod CREATEs to the injector.
import { encodeBase64 } from '../../core/base64.ts';
import { LABEL_INJECT_REQUIRED } from '../../core/labels.ts';
import { OPERATOR_NAME } from '../../core/labels.ts';
import { LABEL_MANAGED_BY } from '../../core/labels.ts';
//
// Two entries with the same rules, told apart by the label
// spice.ai/inject-required, so that each Pod matches exactly one:
// - most Pods (no such label): failurePolicy Ignore. Annotations cannot be
//   selected on, so this entry sees every Pod created outside the excluded
//   namespaces; an operator outage must not stop the cluster creating Pods
//   that never asked for a sidecar.
// - Pods labelled spice.ai/inject-required=true: failurePolicy Fail, so they
//   are never created without their sidecar.
// The README ("Sidecar injection") explains the choice and the timeout.

/** Never injected, whatever the configuration says (the operator's own namespace is added to these). */
export const ALWAYS_EXCLUDED_NAMESPACES = ['kube-system'];

export const WEBHOOK_NAMES = {
  /** failurePolicy Ignore */
  optional: 'sidecar.inject.spice.ai',
  /** failurePolicy Fail */
  required: 'required.inject.spice.ai',
} as const;

/** Well under the 10 s default: every Pod creation in the cluster may wait on this (twice with reinvocation). */
export const WEBHOOK_TIMEOUT_SECONDS = 5;

export interface WebhookConfigurationOptions {
  name: string;
  operatorNamespace: string;
  /** Restrict injection to these namespaces (`run --namespaces`); empty means all. */
  namespaces?: string[];
  /** PEM of the CA that signed the webhook's serving certificate. */
  caBundlePem: string;
  /** In a cluster: the Service in front of the operator (port 443 unless given). */
  service?: { name: string; namespace: string; port?: number; path: string };
  /** Outside a cluster (tests, development): the full https URL of the mutate endpoint. */
  url?: string;
  /**
   * Label it managed-by the operator (it created the object, and removes it
   * when the injector is turned off); false when another tool (the Helm
   * chart) created it and the operator only keeps it current. Default true.
   */
  ownedByOperator?: boolean;
}

export function webhookConfiguration(o: WebhookConfigurationOptions) {
  if (!o.url === !o.service) throw new Error('webhookConfiguration needs exactly one of service and url');
  const clientConfig = o.url
    ? { url: o.url, caBundle: encodeBase64(o.caBundlePem) }
    : {
        service: { name: o.service!.name, namespace: o.service!.namespace, port: o.service!.port ?? 443, path: o.service!.path },
        caBundle: encodeBase64(o.caBundlePem),
      };
  const matchExpressions: { key: string; operator: string; values: string[] }[] = [
    { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...new Set([o.operatorNamespace, ...ALWAYS_EXCLUDED_NAMESPACES])] },
  ];
  if (o.namespaces?.length)
    matchExpressions.push({ key: 'kubernetes.io/metadata.name', operator: 'In', values: [...new Set(o.namespaces)] });
  const common = {
    clientConfig,
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], scope: 'Namespaced' }],
    namespaceSelector: { matchExpressions },
    sideEffects: 'None',
    admissionReviewVersions: ['v1'],
    timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
    matchPolicy: 'Equivalent',
    // A later webhook may add the spice.ai/inject annotation (policy engines do);
    // the injected mark makes a second call a no-op otherwise.
    reinvocationPolicy: 'IfNeeded',
  };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: o.name,
      labels: {
        'app.kubernetes.io/name': 'spiceai-operator',
        'app.kubernetes.io/component': 'sidecar-injector',
        ...(o.ownedByOperator === false ? {} : { [LABEL_MANAGED_BY]: OPERATOR_NAME }),
      },
    },
    webhooks: [
      {
        name: WEBHOOK_NAMES.optional,
        ...common,
        objectSelector: { matchExpressions: [{ key: LABEL_INJECT_REQUIRED, operator: 'NotIn', values: ['true'] }] },
        failurePolicy: 'Ignore',
      },
      {
        name: WEBHOOK_NAMES.required,
        ...common,
        objectSelector: { matchLabels: { [LABEL_INJECT_REQUIRED]: 'true' } },
        failurePolicy: 'Fail',
      },
    ],
  };
}
