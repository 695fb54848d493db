// An in-memory carrier of the handler contract (core/handler.ts), for unit
// tests: it calls a handler with what it holds and carries out the answer as
// the shim does (shim/controller.ts), without an API server:
// - `apply`: the object replaces what was there, as server-side apply of
//   the whole object would: its status stays (a subresource), and its
//   metadata.generation moves when its spec changes; `keep`: left as it
//   is; other children of the handler's kinds are pruned;
// - `write`: created only if absent, or replaced only at `ifResourceVersion`;
// - `patch`: merged into the object (child, related or the parent; the
//   parent's after its status, as the shim does);
// - `status`: the handler's own keys replace the parent's (undefined removes,
//   and so does leaving out a key it returned before: server-side apply's
//   field ownership); conditions merge by type (a list-map), and a type of
//   the handler's conditionTypes it no longer returns is removed;
// - `events` are kept in order in `events`;
// - a write the API server refuses (`refuse`, until `accept`) is not
//   carried out, and the next pass is told so in Observed.failedWrites, as
//   the shim tells it; a pass whose writes all succeed leaves it empty.
// Every version of every object is kept with the time it was written, so a
// test can ask what a pod may still see while a Secret change propagates.
import type { Desired, FailedWrite, Handler, HandlerConfig, KubeObject, ObjectRef, RecordedEvent } from '../../core/handler.ts';
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
  /** Writes of the last pass the API server refused: what the next pass is told (Observed.failedWrites). */
  failedWrites: FailedWrite[] = [];
  /** The API server's refusals in force: a write with the same verb and target gets this answer. */
  private refusals: FailedWrite[] = [];
  private refusedThisPass: FailedWrite[] = [];
  private rv = 1;
  /** The status keys the handler returned last: leaving one out later removes it. */
  private ownStatusKeys: string[] = [];

  constructor(
    readonly handler: Handler,
    parent: KubeObject,
    public config: HandlerConfig,
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

  /** Puts an object the handler reads (a related kind) in the world, as someone else would; returns it as stored. */
  putRelated(object: KubeObject): KubeObject {
    const key = refKey(refOf(object));
    const stored = { ...object, metadata: { uid: `uid-${key}`, ...object.metadata, resourceVersion: String(++this.rv) } };
    this.related.set(key, stored);
    this.record(key, stored);
    return stored;
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
    const desired = await this.handler.reconcile({
      parent: this.parent,
      children: [...this.children.values()],
      related,
      now: this.now,
      config: this.config,
      failedWrites: this.failedWrites,
    });
    this.refusedThisPass = [];
    this.carryOut(desired);
    this.failedWrites = this.refusedThisPass;
    this.last = desired;
    return desired;
  }

  /** From now on the API server answers these writes so (code, reason, message): they do not happen. */
  refuse(...answers: FailedWrite[]): void {
    this.refusals.push(...answers);
  }

  /** The API server accepts every write again. */
  accept(): void {
    this.refusals = [];
  }

  /** Whether the API server refuses this write; a refused one is remembered for the next pass. */
  private refused(target: ObjectRef, verb: FailedWrite['verb']): boolean {
    const answer = this.refusals.find((f) => f.verb === verb && refKey(f.target) === refKey(target));
    if (answer) this.refusedThisPass.push(answer);
    return !!answer;
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
      if (this.refused(refOf(owned), 'apply')) {
        if (before) next.set(key, before);
        continue;
      }
      const generation = !('spec' in owned)
        ? undefined
        : before && JSON.stringify(before.spec) === JSON.stringify(owned.spec)
          ? before.metadata.generation
          : (before?.metadata.generation ?? 0) + 1;
      const metadata = {
        ...owned.metadata,
        uid: before?.metadata.uid ?? `uid-${key}`,
        resourceVersion: String(++this.rv),
        ...(generation === undefined ? {} : { generation }),
      };
      next.set(key, { ...owned, metadata, ...(before?.status === undefined ? {} : { status: before.status }) });
    }
    for (const [key, child] of this.children) {
      if (!next.has(key) && (!ownedKinds.has(`${child.apiVersion}/${child.kind}`) || this.refused(refOf(child), 'delete')))
        next.set(key, child);
    }
    for (const key of new Set([...this.children.keys(), ...next.keys()]))
      if (this.children.get(key) !== next.get(key)) this.record(key, next.get(key));
    this.children = next;

    const parentKey = refKey(refOf(this.parent));
    for (const { target, patch } of desired.patch ?? []) {
      const key = refKey(target);
      if (key === parentKey) continue; // after the status, as the shim does
      const store = this.children.has(key) ? this.children : this.related.has(key) ? this.related : undefined;
      if (!store || this.refused(target, 'patch')) continue;
      store.set(key, mergePatch(store.get(key)!, patch) as KubeObject);
      this.record(key, store.get(key));
    }
    for (const { object, ifResourceVersion } of desired.write ?? []) {
      const key = refKey(refOf(object));
      const current = this.related.get(key);
      if (ifResourceVersion === undefined ? current : current?.metadata.resourceVersion !== ifResourceVersion) continue; // left as found
      const stored = {
        ...object,
        metadata: { ...object.metadata, uid: current?.metadata.uid ?? `uid-${key}`, resourceVersion: String(++this.rv) },
      };
      this.related.set(key, stored);
      this.record(key, stored);
    }
    if (desired.status) {
      const current = (this.parent.status ?? {}) as Record<string, unknown>;
      const own = { ...Object.fromEntries(this.ownStatusKeys.map((k) => [k, undefined])), ...desired.status };
      this.parent = { ...this.parent, status: mergeStatus(current, own, this.parent.metadata.generation, this.handler.conditionTypes) };
      this.ownStatusKeys = Object.keys(desired.status);
    }
    for (const { target, patch } of desired.patch ?? []) {
      if (refKey(target) !== parentKey || this.refused(target, 'patch')) continue;
      this.parent = mergePatch(this.parent, patch) as KubeObject;
    }
    this.events.push(...(desired.events ?? []));
  }

  condition(type: string): { type: string; status: string; reason: string; message: string } | undefined {
    return (
      (this.parent.status as { conditions?: { type: string; status: string; reason: string; message: string }[] })?.conditions ?? []
    ).find((c) => c.type === type);
  }

  /** Passes until the handler asks for nothing new (no writes, no applies that change anything), at most `max`. */
  async settle(max = 10): Promise<void> {
    for (let i = 0; i < max; i++) {
      const before = JSON.stringify([
        [...this.children.values()].map((o) => [o.metadata.name, o.data ?? o.spec]),
        [...this.related.values()].map((o) => o.data),
      ]);
      const d = await this.pass();
      const after = JSON.stringify([
        [...this.children.values()].map((o) => [o.metadata.name, o.data ?? o.spec]),
        [...this.related.values()].map((o) => o.data),
      ]);
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

function mergeStatus(
  current: Record<string, unknown>,
  own: Record<string, unknown>,
  generation: number | undefined,
  ownTypes: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...current, observedGeneration: generation };
  for (const [key, value] of Object.entries(own)) {
    if (key === 'conditions') {
      const mine = (value ?? []) as { type: string }[];
      const others = ((current.conditions ?? []) as { type: string }[]).filter(
        (c) => !ownTypes.includes(c.type) && !mine.some((m) => m.type === c.type),
      );
      out.conditions = [...others, ...mine];
    } else if (value === undefined) {
      delete out[key];
    } else {
      out[key] = value;
    }
  }
  return out;
}
