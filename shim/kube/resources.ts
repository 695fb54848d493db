// The resource types the operator reads and writes, with the REST facts
// (group, version, plural, scope) needed to build their URLs. A static table
// instead of API discovery: the set is small and known, and discovery would
// add a round trip and a failure mode at startup.

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  /** '' for the core group */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

const table = new Map<string, ResourceRef>();

function key(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

/**
 * Adds a resource type to the table (for kinds the operator does not know at
 * build time, e.g. a CRD registered by a test). Re-registering the same
 * apiVersion/kind replaces the entry.
 */
export function registerResource(apiVersion: string, kind: string, plural: string, namespaced: boolean): ResourceRef {
  const slash = apiVersion.indexOf('/');
  const ref: ResourceRef = {
    apiVersion,
    kind,
    group: slash === -1 ? '' : apiVersion.slice(0, slash),
    version: slash === -1 ? apiVersion : apiVersion.slice(slash + 1),
    plural,
    namespaced,
  };
  table.set(key(apiVersion, kind), ref);
  return ref;
}

registerResource('v1', 'ConfigMap', 'configmaps', true);
registerResource('v1', 'Secret', 'secrets', true);
registerResource('v1', 'Service', 'services', true);
registerResource('v1', 'ServiceAccount', 'serviceaccounts', true);
registerResource('v1', 'Pod', 'pods', true);
registerResource('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true);
registerResource('v1', 'Event', 'events', true);
registerResource('v1', 'Namespace', 'namespaces', false);
registerResource('v1', 'Node', 'nodes', false);
registerResource('events.k8s.io/v1', 'Event', 'events', true);
registerResource('apps/v1', 'Deployment', 'deployments', true);
registerResource('apps/v1', 'StatefulSet', 'statefulsets', true);
registerResource('rbac.authorization.k8s.io/v1', 'Role', 'roles', true);
registerResource('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true);
registerResource('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', true);
registerResource('coordination.k8s.io/v1', 'Lease', 'leases', true);
registerResource('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false);
registerResource('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false);
registerResource('storage.k8s.io/v1', 'StorageClass', 'storageclasses', false);
registerResource('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', false);
registerResource('spice.ai/v1', 'SpicepodSet', 'spicepodsets', true);
registerResource('spice.ai/v1alpha1', 'SpicepodCluster', 'spicepodclusters', true);
registerResource('monitoring.coreos.com/v1', 'PodMonitor', 'podmonitors', true);
registerResource('authentication.k8s.io/v1', 'TokenReview', 'tokenreviews', false);
registerResource('authorization.k8s.io/v1', 'SubjectAccessReview', 'subjectaccessreviews', false);

/** The REST facts for apiVersion + kind; throws for a kind not in the table. */
export function resourceFor(apiVersion: string, kind: string): ResourceRef {
  const ref = table.get(key(apiVersion, kind));
  if (!ref) {
    const known = [...table.values()].filter((r) => r.kind === kind).map((r) => r.apiVersion);
    throw new Error(
      `unknown resource ${kind} in ${apiVersion || '(no apiVersion)'}: the operator's resource table (shim/kube/resources.ts) has no entry for it` +
        (known.length ? ` (it knows ${kind} in ${known.join(', ')})` : ''),
    );
  }
  return ref;
}

/** Anything that names a resource type: a table entry, or an object with apiVersion and kind. */
export type ResourceLike = ResourceRef | { apiVersion: string; kind: string };

export function toResourceRef(like: ResourceLike): ResourceRef {
  return 'plural' in like ? like : resourceFor(like.apiVersion, like.kind);
}

/**
 * The URL path of a collection or object:
 * /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]] or /apis/GROUP/VERSION/....
 * A namespaced kind without a namespace gives the all-namespaces collection
 * (valid for list and watch only). The namespace is ignored for cluster-scoped kinds.
 */
export function objectPath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let path = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  if (ref.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  else if (ref.namespaced && name) throw new Error(`${ref.kind} ${name} is namespaced: a namespace is required`);
  path += `/${ref.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  else if (subresource) throw new Error(`subresource ${subresource} needs an object name`);
  if (subresource) path += `/${subresource}`;
  return path;
}
