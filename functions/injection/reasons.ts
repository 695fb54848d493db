// Why the injector answered an admission as it did: one constant per rule,
// each with its meaning. An admission's outcome carries one (`code`), next to
// the words a user reads; the checks that return them are in
// injection-request.ts (the Pod's annotations) and admission-decision.ts (the
// request, the Pod and its ConfigMap), in the order they are checked.
export const AdmissionReason = {
  // The request itself (answered 400, counted as errors).
  /** The request body is not JSON. */
  BodyNotJson: 'BodyNotJson',
  /** The body is JSON but not an admission.k8s.io/v1 AdmissionReview with a request. */
  NotAnAdmissionReview: 'NotAnAdmissionReview',
  /** request.object is not a Pod (a field has the wrong type). */
  ObjectNotAPod: 'ObjectNotAPod',

  // Passed through untouched.
  /** The request is for another kind than a core v1 Pod. */
  NotAPodRequest: 'NotAPodRequest',
  /** The operation is not CREATE: injection happens on CREATE only. */
  NotCreate: 'NotCreate',
  /** The request is for a subresource of the Pod. */
  Subresource: 'Subresource',
  /** The Pod does not ask for a sidecar (no spice.ai/inject, or it is "false"/"disabled"). */
  NotRequested: 'NotRequested',
  /** The Pod's namespace is never injected (the operator's own, kube-system, ...). */
  NamespaceExcluded: 'NamespaceExcluded',
  /** The Pod already carries the sidecar (webhook reinvocation, or a copy of an injected Pod). */
  AlreadyInjected: 'AlreadyInjected',

  // Denied: the Pod is not created, the message says what to change.
  /** A container added after injection uses a port the sidecar uses. */
  ClashAfterInjection: 'ClashAfterInjection',
  /** The label spice.ai/inject-required=true is set but the annotations ask for no sidecar. */
  RequiredButNotRequested: 'RequiredButNotRequested',
  /** spice.ai/inject is neither true/enabled, false/disabled, nor a ConfigMap name. */
  UnrecognisedInjectValue: 'UnrecognisedInjectValue',
  /** Two spellings of one annotation (older and newer) are set to different values. */
  AnnotationsDisagree: 'AnnotationsDisagree',
  /** spice.ai/inject names one ConfigMap and the ConfigMap annotation another. */
  ConfigMapNamedTwice: 'ConfigMapNamedTwice',
  /** Injection is asked for but no ConfigMap is named. */
  NoConfigMapNamed: 'NoConfigMapNamed',
  /** The ConfigMap name is not a valid Kubernetes name. */
  InvalidConfigMapName: 'InvalidConfigMapName',
  /** The ConfigMap key is not a valid ConfigMap key. */
  InvalidConfigMapKey: 'InvalidConfigMapKey',
  /** The sidecar image is empty or has white space. */
  InvalidImage: 'InvalidImage',
  /** The pull policy is not Always, IfNotPresent or Never. */
  InvalidPullPolicy: 'InvalidPullPolicy',
  /** A port annotation is not a whole number from 1 to 65535. */
  InvalidPort: 'InvalidPort',
  /** Two of the sidecar's three ports are the same. */
  PortsCollide: 'PortsCollide',
  /** A CPU or memory annotation is not a Kubernetes quantity. */
  InvalidResourceQuantity: 'InvalidResourceQuantity',
  /** The sidecar's CPU or memory request is above its limit. */
  RequestAboveLimit: 'RequestAboveLimit',
  /** The Pod already has a container, volume or port the sidecar needs. */
  PodClashesWithSidecar: 'PodClashesWithSidecar',
  /** The ConfigMap named does not exist in the Pod's namespace. */
  ConfigMapNotFound: 'ConfigMapNotFound',
  /** The ConfigMap has no entry under the key named. */
  ConfigMapKeyMissing: 'ConfigMapKeyMissing',

  // Failed: the Pod is not created, trying again may work (answered as a 500 denial, counted as an error).
  /** The ConfigMap could not be read to check it. */
  ConfigMapUnreadable: 'ConfigMapUnreadable',
  /** The injector itself failed (a bug): the Pod is not created. */
  InternalError: 'InternalError',

  // Allowed with a patch.
  /** The sidecar is added. */
  Injected: 'Injected',
} as const;
export type AdmissionReason = (typeof AdmissionReason)[keyof typeof AdmissionReason];
