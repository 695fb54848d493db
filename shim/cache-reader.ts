// Reads objects for parts of the shim that are not controllers (the status
// API, metrics): from the controllers' caches when one of them is sure to
// hold the answer, otherwise from the API server. A cache is sure when it has
// synced, watches the namespace, and its selector is implied by the query:
// a cache of pods with label `app` holds every pod with `app=x`, but a cache
// of children labelled with one handler's name does not prove that an object
// it lacks is absent.
import type { TypeRef } from '../core/handler.ts';
import type { Informer } from './informer.ts';
import type { KObject, KubeClient } from './kube/client.ts';

/**
 * Whether every object carrying all of `labels` also matches `selector`.
 * Understands equality (`k=v`, `k==v`) and existence (`k`) requirements; any
 * other requirement counts as not implied.
 */
export function selectorImpliedBy(selector: string | undefined, labels: Record<string, string>): boolean {
  if (!selector?.trim()) return true;
  return selector.split(',').every((raw) => {
    const requirement = raw.trim();
    const eq = /^([A-Za-z0-9._/-]+)\s*==?\s*([A-Za-z0-9._-]*)$/.exec(requirement);
    if (eq) return labels[eq[1]!] === eq[2];
    if (/^[A-Za-z0-9._/-]+$/.test(requirement)) return Object.hasOwn(labels, requirement);
    return false;
  });
}

const hasLabels = (obj: KObject, labels: Record<string, string>) =>
  Object.entries(labels).every(([k, v]) => obj.metadata.labels?.[k] === v);
const ofType = (informer: Informer, type: TypeRef) => informer.ref.apiVersion === type.apiVersion && informer.ref.kind === type.kind;

/** Whether this cache holds every object of the type in namespace with these labels. */
function complete(informer: Informer, type: TypeRef, namespace: string, labels: Record<string, string>): boolean {
  const scope = informer.scope;
  return (
    ofType(informer, type) &&
    informer.hasSynced() &&
    (scope.namespace === undefined || scope.namespace === namespace) &&
    !scope.fieldSelector &&
    selectorImpliedBy(scope.labelSelector, labels)
  );
}

export const toLabelSelector = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export class CacheReader {
  /** Reads answered from a cache and from the API server (tests read them). */
  readonly counters = { cache: 0, api: 0 };

  constructor(
    private readonly sources: () => Iterable<Informer>,
    private readonly client: KubeClient,
  ) {}

  async get(type: TypeRef, namespace: string, name: string): Promise<KObject | undefined> {
    let sureAbsent = false;
    for (const informer of this.sources()) {
      if (!ofType(informer, type) || !informer.hasSynced()) continue;
      const found = informer.get(namespace, name);
      if (found) {
        this.counters.cache++;
        return found;
      }
      if (complete(informer, type, namespace, {})) sureAbsent = true;
    }
    if (sureAbsent) {
      this.counters.cache++;
      return undefined;
    }
    this.counters.api++;
    return this.client.get(type.apiVersion, type.kind, namespace, name);
  }

  async list(type: TypeRef, namespace: string, labels: Record<string, string>): Promise<KObject[]> {
    for (const informer of this.sources()) {
      if (!complete(informer, type, namespace, labels)) continue;
      this.counters.cache++;
      return informer.listBy((o) => o.metadata.namespace === namespace && hasLabels(o, labels));
    }
    this.counters.api++;
    return (await this.client.list(type, { namespace, labelSelector: toLabelSelector(labels) })).items;
  }

  /** Whether some cache holds objects of the type. */
  hasCacheOf(type: TypeRef): boolean {
    for (const informer of this.sources()) if (ofType(informer, type)) return true;
    return false;
  }

  /** Every cached object of the type, once each (several caches may hold the same object). */
  cached(type: TypeRef): KObject[] {
    const byUid = new Map<string, KObject>();
    for (const informer of this.sources()) {
      if (!ofType(informer, type)) continue;
      for (const obj of informer.list()) byUid.set(obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`, obj);
    }
    return [...byUid.values()];
  }
}
