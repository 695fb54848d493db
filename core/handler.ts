// The contract between the shim and a handler. A handler is a function from
// observed state to desired state: it never talks to the API server, holds
// nothing between calls, and can be served over HTTP as it is (plain JSON).

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface TypeRef {
  apiVersion: string;
  kind: string;
}

export interface ObjectRef extends TypeRef {
  namespace?: string;
  name: string;
}

/** Operator-wide settings from the `run` flags. */
export interface HandlerConfig {
  operatorNamespace: string;
  clusterDomain: string;
  /** Dead-pod observations before a set is paused; 0 disables. */
  pauseCrashloopingPodsThreshold: number;
  telemetryProperties: Record<string, string>;
  /**
   * Seconds a changed Secret takes to reach the pods' files (the kubelet's sync period plus its
   * cache): steps of a certificate rotation that rely on a previous one wait this long. Default 120.
   */
  secretPropagationSeconds?: number;
  /**
   * Labels of the operator's own pods (`run --operator-pod-labels`): NetworkPolicies admit
   * only those pods of the operator namespace to spiced's HTTP port. Default
   * DEFAULT_OPERATOR_POD_LABELS (core/manifests/network-policy.ts), the Helm chart's.
   */
  operatorPodLabels?: Record<string, string>;
}

export interface Observed {
  parent: KubeObject;
  /** Current children of the kinds the handler owns (labelled with its name and owned by the parent). */
  children: KubeObject[];
  /** Related objects the handler reads but does not own, by kind (e.g. Pod, PersistentVolumeClaim). */
  related: Record<string, KubeObject[]>;
  /** Milliseconds since the epoch; handlers never read the clock themselves. */
  now: number;
  config: HandlerConfig;
  /**
   * Writes of this handler's previous pass for this parent that did not happen, as the API
   * server answered them (a child it refused, a patch an admission plugin forbade). Empty once
   * they succeed. The handler decides what the user is told; the shim only carries them back.
   */
  failedWrites?: FailedWrite[];
}

/** A write the shim could not carry out. */
export interface FailedWrite {
  target: ObjectRef;
  verb: 'apply' | 'delete' | 'patch' | 'create' | 'update';
  /** HTTP status of the API server's answer; 0 when there was none (a network failure). */
  code: number;
  /** The API server's machine-readable reason (Invalid, Forbidden, BadRequest, ...), '' when none. */
  reason: string;
  message: string;
}

export interface RecordedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Desired {
  /** Children to server-side apply. The shim adds the owner reference and handler label. */
  apply: KubeObject[];
  /** Existing children to leave exactly as they are (not applied, not pruned). */
  keep?: ObjectRef[];
  /** Merge patches to existing objects the handler does not own (e.g. PVC resize, clearing an annotation). */
  patch?: { target: ObjectRef; patch: Record<string, unknown> }[];
  /**
   * Objects outside the parent's ownership written with care: created only if absent (an
   * existing one is never overwritten), or replaced only if still at `ifResourceVersion`.
   */
  write?: { object: KubeObject; ifResourceVersion?: string }[];
  /**
   * The parent's status fields this handler owns; the shim adds observedGeneration. Several
   * handlers may share a parent: each writes (and is compared on) only its own keys, and its
   * own condition types. A key present with the value undefined means "remove it".
   */
  status?: Record<string, unknown>;
  events?: RecordedEvent[];
  /** Reconcile again after this many seconds even if nothing changes (rollout steps, expiry). */
  requeueAfterSeconds?: number;
}

export interface RelatedKind extends TypeRef {
  /** Label whose value names the parent. */
  parentLabel: string;
  /** Watch only the operator's namespace; the parent's namespace is then in this label. */
  inOperatorNamespace?: {
    parentNamespaceLabel: string;
    /**
     * The name of the parent's object there: it is related whatever its labels (an object a user
     * brought or restored from a backup carries none of ours). Every object of the kind in the
     * operator's namespace is then watched.
     */
    nameOf?: (parent: { namespace: string; name: string }) => string;
  };
}

export interface Handler {
  name: string;
  parent: TypeRef;
  /** Kinds this handler creates; children of these kinds that it stops returning are deleted. */
  children: TypeRef[];
  related?: RelatedKind[];
  /** Condition types this handler owns in the parent's status (a type it stops returning is removed). */
  conditionTypes: string[];
  /**
   * Whether what the handler returns depends on its children's status (or on annotations others
   * add to them). When false, a child's update that changes nothing but its status or adds
   * annotations (a Deployment's replica counts, the controller-manager's revision annotation) does
   * not reconcile the parent again; any change to what the handler set still does. Default true.
   */
  readsChildStatus?: boolean;
  /**
   * With readsChildStatus false: a child's update that changes its status.conditions still
   * reconciles the parent (a Deployment's ReplicaFailure, say). Default false.
   */
  readsChildConditions?: boolean;
  /**
   * Events about this handler's children (matched by involvedObject uid), watched with this field
   * selector (e.g. `involvedObject.kind=StatefulSet,reason=FailedCreate`): Events carry none of our
   * labels, so a selector that names the few reasons wanted keeps the watch small. They reach the
   * handler in related.Event.
   */
  childEvents?: { fieldSelector: string };
  /**
   * A status field the shim keeps at the time of its last write for this parent (a child applied,
   * deleted or patched, or the handler's status changed). A pass that writes nothing leaves it,
   * so a no-op reconcile stays at zero writes.
   */
  lastUpdatedField?: string;
  reconcile(observed: Observed): Promise<Desired>;
}

export const refOf = (o: KubeObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace: o.metadata.namespace,
  name: o.metadata.name,
});

export const refKey = (r: ObjectRef): string => `${r.apiVersion}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
