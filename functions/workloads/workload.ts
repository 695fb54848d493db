// What every workload builder (Deployment, per-replica StatefulSets,
// BlueGreen generations) answers: the objects, and how far the rollout of the
// desired revision has come. Whether the set is rolling is decided once, here.
import type { KubeObject, ObjectRef, RecordedEvent } from '../../core/handler.ts';
import type { SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { ANNOTATION_REVISION } from '../../core/annotations.ts';
import type { RollbackRefusal } from './rollback.ts';

export interface Workload {
  apply: KubeObject[];
  keep: ObjectRef[];
  /** BlueGreen: the version the Service selects, and the rollback bookkeeping. */
  serviceVersion?: string;
  status?: Partial<SpicepodSetStatus>;
  events?: RecordedEvent[];
  rollback?: { refusal?: RollbackRefusal };
  requeueAfterSeconds?: number;
  /** Desired replicas that are Ready (any revision), for status. */
  ready: number;
  /** Replicas on the desired revision and Ready. */
  updatedReady: number;
  waiting?: string;
  revision: string;
}

/** A rollout is in progress while fewer than the running replicas are on the desired revision and Ready. */
export const isRolling = (replicas: number, updatedReady: number) => replicas > 0 && updatedReady < replicas;

export const ofKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);

/** The revision of a Deployment's or StatefulSet's pod template. */
export const revisionOf = (o: KubeObject | undefined): string | undefined =>
  (o as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } })?.spec?.template?.metadata?.annotations?.[
    ANNOTATION_REVISION
  ];

/** The revision of the template a pod was made from. */
export const podRevision = (pod: KubeObject) => pod.metadata.annotations?.[ANNOTATION_REVISION];

/** The claim templates a StatefulSet was created with (immutable: kept as they are). */
export const claimTemplatesOf = (sts: KubeObject | undefined) =>
  (sts as { spec?: { volumeClaimTemplates?: unknown[] } } | undefined)?.spec?.volumeClaimTemplates;
