// The CRDs' own webhooks as the operator serves them beside the injector:
// conversion between spice.ai/v1 (v1alpha1) and v2 on `POST /convert`
// (functions/conversion), validating admission on `POST /validate`
// (functions/validation), and the caBundle targets that point the API server
// at them: each CRD's `spec.conversion.webhook.clientConfig` (Service or URL,
// and the webhook CA) and the ValidatingWebhookConfiguration, written only
// when they differ (a CRD write makes the API server restart its watches of
// that resource).
import { encodeBase64 } from '../core/base64.ts';
import { canonicalJson } from '../core/manifests/hash.ts';
import { CONVERT_PATH, allCrds, type ConversionClientConfig } from '../core/spec/crds.ts';
import { answerConversionReview, type ConversionOutcome } from '../functions/conversion/index.ts';
import { createValidation, validatingWebhookConfiguration, VALIDATE_PATH, type Level } from '../functions/validation/index.ts';
import type { TextRoute } from './http.ts';
import type { KObject, KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import { webhookConfigurationTarget, type CaBundleTarget } from './webhook/ca-bundle.ts';

export const DEFAULT_VALIDATING_CONFIGURATION = 'spiceai-operator-validation';
const CRD_API = 'apiextensions.k8s.io/v1';
const CRD_KIND = 'CustomResourceDefinition';

/** Where the API server reaches the conversion webhook: the URL's host with /convert, or the webhook Service. */
export function conversionClientConfig(
  o: { serviceName: string; operatorNamespace: string; url?: string },
  caPem: string,
): ConversionClientConfig {
  const caBundle = encodeBase64(caPem);
  if (o.url) return { url: new URL(CONVERT_PATH, o.url).toString(), caBundle };
  return { service: { namespace: o.operatorNamespace, name: o.serviceName, path: CONVERT_PATH, port: 443 }, caBundle };
}

type Crd = KObject & { spec: { conversion?: unknown } };

/**
 * One CRD's conversion stanza, pointed at this operator's webhook. Written
 * by an update of the CRD read (resourceVersion precondition: a concurrent
 * writer wins and the next check looks again), because switching between
 * service and url must drop the other. A CRD that is not installed is left
 * alone (the chart or `crd --apply` installs it).
 */
export function crdConversionTarget(o: { crdName: string; clientConfig: (caPem: string) => ConversionClientConfig }): CaBundleTarget {
  const conversion = (caPem: string) => ({
    strategy: 'Webhook',
    webhook: { conversionReviewVersions: ['v1'], clientConfig: o.clientConfig(caPem) },
  });
  return {
    apiVersion: CRD_API,
    kind: CRD_KIND,
    name: o.crdName,
    desired: (caPem, have) => (have ? ({ ...have, spec: { ...(have as Crd).spec, conversion: conversion(caPem) } } as KObject) : undefined),
    isCurrent: (have, want) => canonicalJson((have as Crd).spec.conversion) === canonicalJson((want as Crd).spec.conversion),
    write: (client, want) => client.update(want),
  };
}

/** Both CRDs' conversion and the ValidatingWebhookConfiguration. */
export function crdWebhookTargets(o: {
  serviceName: string;
  operatorNamespace: string;
  url?: string;
  validatingConfigurationName: string;
}): CaBundleTarget[] {
  const where = o.url ? { url: o.url } : { service: `${o.serviceName}.${o.operatorNamespace}` };
  return [
    ...allCrds().map((crd) => ({
      ...crdConversionTarget({
        crdName: (crd.metadata as { name: string }).name,
        clientConfig: (caPem) => conversionClientConfig(o, caPem),
      }),
      logFields: where,
    })),
    webhookConfigurationTarget({
      kind: 'ValidatingWebhookConfiguration',
      name: o.validatingConfigurationName,
      render: (caPem) =>
        validatingWebhookConfiguration({
          name: o.validatingConfigurationName,
          caBundlePem: caPem,
          ...(o.url ? { url: o.url } : { service: { name: o.serviceName, namespace: o.operatorNamespace } }),
        }),
      logFields: where,
    }),
  ];
}

/** Whether a StorageClass exists; undefined when it cannot tell (no permission, timeout): the rule then says nothing. */
export function storageClassLookup(reader: Pick<KubeClient, 'get'>): (name: string) => Promise<boolean | undefined> {
  return async (name) => {
    try {
      return (await reader.get('storage.k8s.io/v1', 'StorageClass', undefined, name)) !== undefined;
    } catch {
      return undefined;
    }
  };
}

/** `POST /convert`, logged by names and counts only. */
export function conversionRoute(log: Logger): Record<string, TextRoute> {
  const onOutcome = (outcome: ConversionOutcome) => {
    if (outcome.result === 'converted') log.debug('converted', { objects: outcome.objects, to: outcome.desiredApiVersion });
    else log.warn('conversion refused', { result: outcome.result, reason: outcome.reason, to: outcome.desiredApiVersion });
  };
  return {
    [`POST ${CONVERT_PATH}`]: async (text) => {
      const answer = answerConversionReview(text, onOutcome);
      return { status: answer.status, body: JSON.stringify(answer.body) };
    },
  };
}

/** `POST /validate`: validating admission of both kinds, logged by names and reasons only. */
export function validationRoute(o: {
  level: Level;
  storageClassExists?: (name: string) => Promise<boolean | undefined>;
  log: Logger;
}): Record<string, TextRoute> {
  const validate = createValidation({
    level: o.level,
    storageClassExists: o.storageClassExists,
    onDecision: (d) => {
      if (!d.allowed)
        o.log.info('admission denied', {
          apiVersion: d.apiVersion,
          kind: d.kind,
          namespace: d.namespace,
          name: d.name,
          reasons: d.reasons,
          level: d.level,
          dryRun: d.dryRun,
        });
      else
        o.log.debug('admitted', {
          apiVersion: d.apiVersion,
          kind: d.kind,
          namespace: d.namespace,
          name: d.name,
          reasons: d.reasons,
          level: d.level,
        });
    },
  });
  return {
    [`POST ${VALIDATE_PATH}`]: async (text) => {
      const answer = await validate(text);
      return { status: answer.status, body: JSON.stringify(answer.body) };
    },
  };
}
