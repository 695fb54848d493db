// An in-memory carrier of the handler contract (core/handler.ts), for unit
// tests: it calls a handler with what it holds and carries out the answer as
// the shim does (shim/controller.ts), without an API server:
// - `apply`: the object replaces what was there; `keep`: left as it is;
//   other children of the handler's kinds are pruned;
// - `write`: created only if absent, or replaced only at `ifResourceVersion`;
// - `patch`: merged into the object (child or related);
// - `status`: the handler's own keys replace the parent's (undefined removes),
//   conditions merge by type (a list-map, as server-side apply keeps them);
// - `events` are kept in order in `events`.
// Every version of every object is kept with the time it was written, so a
// test can ask what a pod may still see while a Secret change propagates.
import type { Desired, Handler, HandlerConfig, KubeObject, ObjectRef, RecordedEvent } from '../../core/handler.ts';
import { refKey, refOf } from '../../core/handler.ts';

export interface Version {
  at: number;
  /** undefined: deleted. */
  object?: KubeObject;
}

export class Carrier {
  parent: KubeObject;
  children = new Map<string, KubeObject>();
  /** Objects the handler reads but does not own, by ref key. */
  related = new Map<string, KubeObject>();
  events: RecordedEvent[] = [];
  last?: Desired;
  now: number;
  /** Every content of every child and related object, oldest first. */
  readonly history = new Map<string, Version[]>();
  private rv = 1;

  constructor(
    readonly handler: Handler,
    parent: KubeObject,
    readonly config: HandlerConfig,
    now = Date.parse('2026-01-01T00:00:00Z'),
  ) {
    this.parent = { ...parent, metadata: { uid: 'parent-uid', generation: 1, ...parent.metadata } };
    this.now = now;
  }

  private record(key: string, object: KubeObject | undefined): void {
    const versions = this.history.get(key) ?? [];
    const content = (o: KubeObject | undefined) => (o ? JSON.stringify([o.data, o.spec, o.metadata.annotations]) : 'absent');
    if (content(versions.at(-1)?.object) === content(object)) return;
    versions.push({ at: this.now, object });
    this.history.set(key, versions);
  }

  /** Puts an object the handler reads (a related kind) in the world, as someone else would. */
  putRelated(object: KubeObject): void {
    const key = refKey(refOf(object));
    const stored = { ...object, metadata: { uid: `uid-${key}`, ...object.metadata, resourceVersion: String(++this.rv) } };
    this.related.set(key, stored);
    this.record(key, stored);
  }

  deleteRelated(ref: ObjectRef): void {
    const key = refKey(ref);
    this.related.delete(key);
    this.record(key, undefined);
  }

  relatedOf(kind: string): KubeObject[] {
    return [...this.related.values()].filter((o) => o.kind === kind);
  }

  setSpec(spec: unknown): void {
    this.parent = { ...this.parent, metadata: { ...this.parent.metadata, generation: (this.parent.metadata.generation ?? 1) + 1 }, spec };
  }

  async pass(): Promise<Desired> {
    const related: Record<string, KubeObject[]> = {};
    for (const o of this.related.values()) (related[o.kind] ??= []).push(o);
    const desired = await this.handler.reconcile({ parent: this.parent, children: [...this.children.values()], related, now: this.now, config: this.config });
    this.carryOut(desired);
    this.last = desired;
    return desired;
  }

  private carryOut(desired: Desired): void {
    const ownedKinds = new Set(this.handler.children.map((k) => `${k.apiVersion}/${k.kind}`));
    const next = new Map<string, KubeObject>();
    for (const ref of desired.keep ?? []) {
      const key = refKey(ref);
      if (this.children.has(key)) next.set(key, this.children.get(key)!);
    }
    for (const obj of desired.apply) {
      const owned = { ...obj, metadata: { namespace: this.parent.metadata.namespace, ...obj.metadata } };
      const key = refKey(refOf(owned));
      const before = this.children.get(key);
      next.set(key, { ...owned, metadata: { ...owned.metadata, uid: before?.metadata.uid ?? `uid-${key}`, resourceVersion: String(++this.rv) } });
    }
    for (const [key, child] of this.children) {
      if (!next.has(key) && !ownedKinds.has(`${child.apiVersion}/${child.kind}`)) next.set(key, child);
    }
    for (const key of new Set([...this.children.keys(), ...next.keys()])) if (this.children.get(key) !== next.get(key)) this.record(key, next.get(key));
    this.children = next;

    for (const { target, patch } of desired.patch ?? []) {
      const key = refKey(target);
      const store = this.children.has(key) ? this.children : this.related.has(key) ? this.related : undefined;
      if (!store) continue;
      store.set(key, mergePatch(store.get(key)!, patch) as KubeObject);
      this.record(key, store.get(key));
    }
    for (const { object, ifResourceVersion } of desired.write ?? []) {
      const key = refKey(refOf(object));
      const current = this.related.get(key);
      if (ifResourceVersion === undefined ? current : current?.metadata.resourceVersion !== ifResourceVersion) continue; // left as found
      const stored = { ...object, metadata: { ...object.metadata, uid: current?.metadata.uid ?? `uid-${key}`, resourceVersion: String(++this.rv) } };
      this.related.set(key, stored);
      this.record(key, stored);
    }
    if (desired.status) this.parent = { ...this.parent, status: mergeStatus((this.parent.status ?? {}) as Record<string, unknown>, desired.status, this.parent.metadata.generation) };
    this.events.push(...(desired.events ?? []));
  }

  condition(type: string): { type: string; status: string; reason: string; message: string } | undefined {
    return ((this.parent.status as { conditions?: { type: string; status: string; reason: string; message: string }[] })?.conditions ?? []).find((c) => c.type === type);
  }

  /** Passes until the handler asks for nothing new (no writes, no applies that change anything), at most `max`. */
  async settle(max = 10): Promise<void> {
    for (let i = 0; i < max; i++) {
      const before = JSON.stringify([[...this.children.values()].map((o) => [o.metadata.name, o.data ?? o.spec]), [...this.related.values()].map((o) => o.data)]);
      const d = await this.pass();
      const after = JSON.stringify([[...this.children.values()].map((o) => [o.metadata.name, o.data ?? o.spec]), [...this.related.values()].map((o) => o.data)]);
      if (before === after && !(d.write ?? []).length) return;
    }
  }
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = { ...((target && typeof target === 'object' ? target : {}) as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function mergeStatus(current: Record<string, unknown>, own: Record<string, unknown>, generation: number | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...current, observedGeneration: generation };
  for (const [key, value] of Object.entries(own)) {
    if (key === 'conditions') {
      const mine = (value ?? []) as { type: string }[];
      const others = ((current.conditions ?? []) as { type: string }[]).filter((c) => !mine.some((m) => m.type === c.type));
      out.conditions = [...others, ...mine];
    } else if (value === undefined) {
      delete out[key];
    } else {
      out[key] = value;
    }
  }
  return out;
}
