// Pods that asked for the Spice sidecar and run without it. The injector's
// webhook fails open (failurePolicy Ignore, unless the Pod carries
// spice.ai/inject-required=true), so a Pod created while the injector could
// not be reached is admitted untouched and nobody is told. An ordered list of
// named checks decides; the first that excuses the Pod ends it.
import { ANNOTATION_SIDECAR_INJECTED } from '../../core/annotations.ts';
import { LABEL_INJECT_REQUIRED } from '../../core/labels.ts';
import type { InjectionDefaults } from './annotations.ts';
import { readInjectionRequest } from './injection-request.ts';
import { ALWAYS_EXCLUDED_NAMESPACES } from './configuration.ts';
import { SIDECAR_CONTAINER } from './sidecar.ts';

/** The Warning Event's reason on such a Pod. */
export const REASON_SIDECAR_MISSING = 'SidecarMissing';

export interface PodLike {
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[] };
  status?: { phase?: string };
}

type Check = { name: string; excuses(pod: PodLike, o: { defaults: InjectionDefaults; operatorNamespace: string }): boolean };

/** In order; a Pod none of them excuses missed its sidecar. */
export const MISSED_SIDECAR_CHECKS: Check[] = [
  // The webhook is never called for these namespaces.
  {
    name: 'NamespaceExcluded',
    excuses: (pod, o) => [o.operatorNamespace, ...ALWAYS_EXCLUDED_NAMESPACES].includes(pod.metadata.namespace ?? ''),
  },
  {
    name: 'Finished',
    excuses: (pod) => !!pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed',
  },
  {
    name: 'NotRequested',
    excuses: (pod, o) => readInjectionRequest(pod.metadata.annotations, pod.metadata.labels, o.defaults).kind !== 'inject',
  },
  { name: 'MarkedInjected', excuses: (pod) => pod.metadata.annotations?.[ANNOTATION_SIDECAR_INJECTED] !== undefined },
  {
    name: 'HasSidecar',
    excuses: (pod) => [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].some((c) => c.name === SIDECAR_CONTAINER),
  },
];

export function missedSidecar(pod: PodLike, o: { defaults: InjectionDefaults; operatorNamespace: string }): boolean {
  return !MISSED_SIDECAR_CHECKS.some((c) => c.excuses(pod, o));
}

export function missedSidecarMessage(pod: PodLike): string {
  return `this Pod asks for the Spice sidecar but runs without it: it was created while the sidecar injector could not be reached (its webhook fails open). Delete the Pod so its controller re-creates it with the sidecar (kubectl delete pod -n ${pod.metadata.namespace} ${pod.metadata.name}), or label it ${LABEL_INJECT_REQUIRED}=true to have such Pods refused instead`;
}
