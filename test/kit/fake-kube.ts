// An in-memory stand-in for the shim's KubeClient (shim/kube/client.ts), for
// unit tests of the shim's own logic (leader election, Events, carrying out a
// handler's answer): plain objects in a map, resourceVersions that grow on
// every write, the API server's preconditions (resourceVersion on update, uid
// on delete, create-only), and a log of every write issued. `refuse` makes the
// next matching write fail with the API error given, as the API server would.
import { ApiError, type KObject, type Verb } from '../../shim/kube/client.ts';

export interface Write {
  verb: Verb | 'applyStatus';
  kind: string;
  namespace?: string;
  name: string;
  body?: unknown;
}

type Refusal = { verb: Write['verb']; kind?: string; name?: string; status: number; reason: string; message?: string };

const keyOf = (apiVersion: string, kind: string, namespace: string | undefined, name: string) =>
  `${apiVersion}/${kind}/${namespace ?? ''}/${name}`;

export class FakeKube {
  readonly objects = new Map<string, KObject>();
  readonly writes: Write[] = [];
  private readonly refusals: Refusal[] = [];
  private rv = 1;
  private uid = 1;

  /** Puts an object in place as if someone else wrote it (not logged as a write). */
  put(obj: KObject): KObject {
    const stored = structuredClone(obj);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.rv++), uid: stored.metadata.uid ?? `uid-${this.uid++}` };
    this.objects.set(keyOf(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name), stored);
    return structuredClone(stored);
  }

  find(apiVersion: string, kind: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.objects.get(keyOf(apiVersion, kind, namespace, name));
  }

  /** The next write of this verb (and kind/name, when given) fails with this status. */
  refuse(refusal: Refusal): void {
    this.refusals.push(refusal);
  }

  /** The writes issued, as "verb Kind/name". */
  said(): string[] {
    return this.writes.map((w) => `${w.verb} ${w.kind}/${w.name}`);
  }

  private check(verb: Write['verb'], kind: string, name: string): void {
    const i = this.refusals.findIndex((r) => r.verb === verb && (!r.kind || r.kind === kind) && (!r.name || r.name === name));
    if (i === -1) return;
    const [r] = this.refusals.splice(i, 1);
    throw new ApiError({
      status: r!.status,
      reason: r!.reason,
      message: r!.message ?? `${r!.reason} (refused by the test)`,
      verb: verb === 'applyStatus' ? 'apply' : verb,
      path: `${kind}/${name}`,
    });
  }

  private log(verb: Write['verb'], obj: { kind: string; namespace?: string; name: string }, body?: unknown): void {
    this.writes.push({ verb, kind: obj.kind, namespace: obj.namespace, name: obj.name, body: structuredClone(body) });
  }

  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const o = this.find(apiVersion, kind, namespace, name);
    return o && structuredClone(o);
  }

  async create(obj: KObject): Promise<KObject> {
    this.check('create', obj.kind, obj.metadata.name);
    if (this.find(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name)) {
      throw new ApiError({
        status: 409,
        reason: 'AlreadyExists',
        message: `${obj.kind} ${obj.metadata.name} already exists`,
        verb: 'create',
        path: obj.metadata.name,
      });
    }
    this.log('create', { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }, obj);
    return this.put(obj);
  }

  async update(obj: KObject): Promise<KObject> {
    this.check('update', obj.kind, obj.metadata.name);
    const have = this.find(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (!have) throw new ApiError({ status: 404, reason: 'NotFound', message: 'not found', verb: 'update', path: obj.metadata.name });
    if (obj.metadata.resourceVersion !== undefined && obj.metadata.resourceVersion !== have.metadata.resourceVersion) {
      throw new ApiError({
        status: 409,
        reason: 'Conflict',
        message: 'the object has been modified',
        verb: 'update',
        path: obj.metadata.name,
      });
    }
    this.log('update', { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }, obj);
    return this.put({ ...obj, metadata: { ...obj.metadata, uid: have.metadata.uid } });
  }

  async apply(obj: KObject): Promise<KObject> {
    this.check('apply', obj.kind, obj.metadata.name);
    const have = this.find(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    this.log('apply', { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }, obj);
    return this.put({ ...have, ...obj, metadata: { ...have?.metadata, ...obj.metadata } } as KObject);
  }

  /** apply, logged as one; the answer is dropped, as the real client's is. */
  async applyUnread(obj: KObject): Promise<void> {
    await this.apply(obj);
  }

  async applyStatus(obj: KObject): Promise<KObject> {
    this.check('applyStatus', obj.kind, obj.metadata.name);
    const have = this.find(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    if (!have) throw new ApiError({ status: 404, reason: 'NotFound', message: 'not found', verb: 'apply', path: obj.metadata.name });
    this.log('applyStatus', { kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }, obj.status);
    return this.put({ ...have, status: { ...(have.status as object), ...(obj.status as object) } });
  }

  async mergePatch(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown): Promise<KObject> {
    this.check('patch', kind, name);
    const have = this.find(apiVersion, kind, namespace, name);
    if (!have) throw new ApiError({ status: 404, reason: 'NotFound', message: 'not found', verb: 'patch', path: name });
    this.log('patch', { kind, namespace, name }, patch);
    return this.put(mergePatch(have, patch) as KObject);
  }

  async delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    options: { uid?: string } = {},
  ): Promise<boolean> {
    this.check('delete', kind, name);
    const have = this.find(apiVersion, kind, namespace, name);
    if (!have) return false;
    if (options.uid && options.uid !== have.metadata.uid) {
      throw new ApiError({ status: 409, reason: 'Conflict', message: 'uid precondition failed', verb: 'delete', path: name });
    }
    this.log('delete', { kind, namespace, name });
    this.objects.delete(keyOf(apiVersion, kind, namespace, name));
    return true;
  }
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
