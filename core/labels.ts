// Every label key the operator reads or writes, and the one value that names
// the operator itself: the one home for them (annotations: core/annotations.ts).

/** The SpicepodSet a pod or child belongs to (`kubectl get pods -l spice.ai/app=<set>`). */
export const LABEL_APP = 'spice.ai/app';
/** The SpicepodCluster a node, its set or its Secrets belong to. */
export const LABEL_CLUSTER = 'spice.ai/cluster';
/** scheduler or executor. */
export const LABEL_CLUSTER_ROLE = 'spice.ai/cluster-role';
/** The cluster's namespace, on its CA Secret in the operator namespace. */
export const LABEL_CLUSTER_NAMESPACE = 'spice.ai/cluster-namespace';
/** A BlueGreen generation's version hash (the Service selects on it). */
export const LABEL_VERSION = 'spice.ai/version';
/** The ordinal of a per-replica StatefulSet and its pod. */
export const LABEL_REPLICA = 'spice.ai/replica';
/** `deployment` on the pods of a set's Deployment. */
export const LABEL_WORKLOAD = 'spice.ai/workload';
/** The handler that wrote a child (the shim watches its children by it). */
export const LABEL_HANDLER = 'spice.ai/handler';
/** "true": the Pod must never be created without its sidecar (the fail-closed webhook entry). */
export const LABEL_INJECT_REQUIRED = 'spice.ai/inject-required';
/** Kubernetes' recommended label, set to OPERATOR_NAME on what the operator created. */
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';

/** The operator's name: value of LABEL_MANAGED_BY, prefix of its field managers, component of its Events. */
export const OPERATOR_NAME = 'spiceai-operator';

/** Label and annotation keys users may not set through spec.labels / spec.annotations (reference §1.10). */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  'spice.ai/app',
  'spice.ai/spicepod',
  'spice.ai/version',
  'spice.ai/cluster',
  'spice.ai/cluster-role',
  'spice.ai/cluster-mtls',
  'spice.ai/component',
  'spice.ai/observed-generation',
  'spice.ai/rollback',
  'spice.ai/resume',
  'spice.ai/sidecar-injected',
  'spice.ai/validation-level',
  'spice.ai/revision',
  'spice.ai/replica',
  'spice.ai/workload',
  'spice.ai/handler',
  'spice.ai/spicepod-checksum',
]);
