// A SpicepodSet under the workloads handler, carried by the kit's Carrier,
// with the one part of the cluster the handler depends on played here: the
// pods. After every pass each Deployment or StatefulSet with replicas has
// one pod at its template's revision (a StatefulSet's is <sts>-0, the
// Deployment's <deployment>-pod); a changed template replaces the pod with
// a new one (new uid, Pending); a workload at zero replicas, or gone, has
// none. Tests make pods Ready, crash them or put other pods next to them.
import type { KubeObject } from '../../core/handler.ts';
import { refKey } from '../../core/handler.ts';
import { ANNOTATION_REVISION } from '../../core/annotations.ts';
import { workloadsHandler } from '../../functions/workloads/index.ts';
import { Carrier } from './carrier.ts';
import { handlerConfig, NOW, podStatus, spicepodSet, type ObjectFixture, type PodState } from './fixtures.ts';

interface WorkloadView {
  spec: {
    replicas: number;
    template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: Record<string, unknown> };
  };
}

export class SetWorld extends Carrier {
  /** Names of the pods the workloads have (the ones this world makes and replaces). */
  private workloadPods = new Set<string>();

  constructor(spec: Record<string, unknown> = {}, o: ObjectFixture = {}) {
    super(workloadsHandler, spicepodSet(spec, o), handlerConfig(), NOW);
  }

  override async pass() {
    const desired = await super.pass();
    this.followWorkloads();
    return desired;
  }

  private followWorkloads(): void {
    const wanted = new Map<string, KubeObject>();
    for (const w of this.children.values()) {
      if (w.kind !== 'StatefulSet' && w.kind !== 'Deployment') continue;
      const { spec } = w as unknown as WorkloadView;
      if (spec.replicas === 0) continue;
      const name = w.kind === 'StatefulSet' ? `${w.metadata.name}-0` : `${w.metadata.name}-pod`;
      const revision = spec.template.metadata.annotations[ANNOTATION_REVISION];
      const old = this.pod(name);
      wanted.set(
        name,
        old && old.metadata.annotations?.[ANNOTATION_REVISION] === revision
          ? old
          : {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: {
                name,
                namespace: this.parent.metadata.namespace,
                uid: `uid-${name}-${revision}`,
                labels: spec.template.metadata.labels,
                annotations: spec.template.metadata.annotations,
              },
              status: { phase: 'Pending' },
            },
      );
    }
    for (const name of this.workloadPods) if (!wanted.has(name)) this.deleteRelated(this.podRef(name));
    for (const [name, p] of wanted) if (p !== this.pod(name)) this.putRelated(p);
    this.workloadPods = new Set(wanted.keys());
  }

  private podRef(name: string) {
    return { apiVersion: 'v1', kind: 'Pod', namespace: this.parent.metadata.namespace, name };
  }

  /** A pod of the world, as stored (tests may change its status in place). */
  pod(name: string): KubeObject | undefined {
    return this.related.get(refKey(this.podRef(name)));
  }

  /** The workloads' pods by name. */
  podNames(): string[] {
    return [...this.workloadPods];
  }

  /** Sets the state of these pods (all the workloads' pods when none are named). */
  setPods(state: PodState, ...names: string[]): void {
    for (const name of names.length ? names : this.podNames()) {
      const p = this.pod(name);
      if (p) p.status = podStatus(state);
    }
  }

  /** These pods (all the workloads' pods when none are named) become Running and Ready. */
  ready(...names: string[]): void {
    this.setPods({ ready: true }, ...names);
  }

  /** A pod that no workload here makes (a dead pod of an earlier Deployment, say). */
  addPod(p: KubeObject): KubeObject {
    return this.putRelated(p);
  }

  /** A workload's pod put in by hand (it is replaced when its revision is not the workload's). */
  putWorkloadPod(p: KubeObject): void {
    this.putRelated(p);
    this.workloadPods.add(p.metadata.name);
  }

  removePods(...names: string[]): void {
    for (const name of names.length ? names : this.podNames()) {
      this.deleteRelated(this.podRef(name));
      this.workloadPods.delete(name);
    }
  }

  /** Passes until nothing changes, with every pod becoming Ready. */
  async converge(max = 20): Promise<void> {
    for (let i = 0; i < max; i++) {
      const before = JSON.stringify([...this.children.keys()].sort()) + JSON.stringify(this.last?.apply);
      await this.pass();
      this.ready();
      const after = JSON.stringify([...this.children.keys()].sort()) + JSON.stringify(this.last!.apply);
      if (before === after && this.condition('Ready')?.status === 'True') return;
    }
  }

  /** `Kind/name` of every child, sorted. */
  kinds(): string[] {
    return [...this.children.values()].map((o) => `${o.kind}/${o.metadata.name}`).sort();
  }

  object(kind: string, name: string): any {
    return [...this.children.values()].find((o) => o.kind === kind && o.metadata.name === name);
  }

  /** The revision of a workload's pod template. */
  revisionOf(name: string): string {
    const w = [...this.children.values()].find((o) => o.metadata.name === name) as unknown as WorkloadView;
    return w.spec.template.metadata.annotations[ANNOTATION_REVISION]!;
  }

  /** The set's status. */
  get status(): any {
    return this.parent.status ?? {};
  }

  /** The parent's annotations, as a user sets them (kubectl annotate). */
  annotate(annotations: Record<string, string>): void {
    this.parent.metadata.annotations = annotations;
  }
}
