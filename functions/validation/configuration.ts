// The ValidatingWebhookConfiguration that sends SpicepodSet and
// SpicepodCluster writes to the operator's /validate.
//
// - rules name every served version: a v2 write comes as written and is
//   converted in-process to the storage version (functions/validation/review.ts),
//   so the rules see one form and the API server makes no conversion call for
//   the webhook (matchPolicy Equivalent still covers a version added later).
// - failurePolicy Ignore: while no operator answers, writes are admitted and
//   the reconcile-time check (the same rules: InvalidSpec condition and Event)
//   reports what is wrong. Fail would make an operator outage stop every
//   GitOps sync of these kinds, the operator's own writes of a cluster's
//   child sets included. README "Validating admission".
// - timeoutSeconds 5: the checks take about a millisecond plus at most one
//   StorageClass read (abandoned after 3 s).
import { encodeBase64 } from '../../core/base64.ts';
import { LABEL_MANAGED_BY, OPERATOR_NAME } from '../../core/labels.ts';
import { VALIDATE_PATH } from './review.ts';

export const VALIDATING_WEBHOOK_NAME = 'validate.spice.ai';
export const VALIDATION_TIMEOUT_SECONDS = 5;
export const VALIDATION_FAILURE_POLICY = 'Ignore';

export interface ValidatingConfigurationOptions {
  name: string;
  caBundlePem: string;
  service?: { name: string; namespace: string; port?: number };
  /** The https URL of the webhook server (its path is replaced by /validate). */
  url?: string;
}

export function validatingWebhookConfiguration(o: ValidatingConfigurationOptions) {
  if (!o.url === !o.service) throw new Error('validatingWebhookConfiguration needs exactly one of service and url');
  const caBundle = encodeBase64(o.caBundlePem);
  const clientConfig = o.url
    ? { url: new URL(VALIDATE_PATH, o.url).toString(), caBundle }
    : { service: { name: o.service!.name, namespace: o.service!.namespace, port: o.service!.port ?? 443, path: VALIDATE_PATH }, caBundle };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name: o.name,
      labels: {
        'app.kubernetes.io/name': 'spiceai-operator',
        'app.kubernetes.io/component': 'validation',
        [LABEL_MANAGED_BY]: OPERATOR_NAME,
      },
    },
    webhooks: [
      {
        name: VALIDATING_WEBHOOK_NAME,
        clientConfig,
        rules: [
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['spice.ai'],
            apiVersions: ['v1', 'v2'],
            resources: ['spicepodsets'],
            scope: 'Namespaced',
          },
          {
            operations: ['CREATE', 'UPDATE'],
            apiGroups: ['spice.ai'],
            apiVersions: ['v1alpha1', 'v2'],
            resources: ['spicepodclusters'],
            scope: 'Namespaced',
          },
        ],
        matchPolicy: 'Equivalent',
        failurePolicy: VALIDATION_FAILURE_POLICY,
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: VALIDATION_TIMEOUT_SECONDS,
      },
    ],
  };
}
