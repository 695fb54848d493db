// The admission.k8s.io/v1 AdmissionReview exchange for SpicepodSets and
// SpicepodClusters (CREATE and UPDATE): allowed with warnings, or denied with
// every problem named. Pure apart from the injected lookups.
import { inStorageVersion } from '../../core/conversion/convert.ts';
import { decide, effectiveLevel, type Level } from './policy.ts';
import { findings, type AdmittedObject, type Lookups } from './rules.ts';

export const VALIDATE_PATH = '/validate';

export interface ValidationOptions extends Lookups {
  level: Level;
  onDecision?: (d: {
    /** The version the object came in (v2 is checked converted to the storage version). */
    apiVersion?: string;
    kind?: string;
    namespace?: string;
    name?: string;
    allowed: boolean;
    level: Level;
    reasons: string[];
    dryRun?: boolean;
  }) => void;
}

export interface ValidationAnswer {
  status: number;
  body: unknown;
}

const review = (response: Record<string, unknown>) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });

export function createValidation(o: ValidationOptions): (text: string) => Promise<ValidationAnswer> {
  return async (text) => {
    let parsed: {
      apiVersion?: string;
      kind?: string;
      request?: { uid?: string; operation?: string; object?: AdmittedObject; oldObject?: AdmittedObject; dryRun?: boolean };
    };
    try {
      parsed = JSON.parse(text);
    } catch {
      return { status: 400, body: { message: 'expected an AdmissionReview (JSON)' } };
    }
    const request = parsed?.request;
    if (parsed?.kind !== 'AdmissionReview' || parsed.apiVersion !== 'admission.k8s.io/v1' || !request?.uid) {
      return { status: 400, body: { message: 'expected an admission.k8s.io/v1 AdmissionReview with request.uid' } };
    }
    // The configuration matches v2 too (one conversion call per write spared): the rules read the storage version.
    let object: AdmittedObject | undefined;
    let oldObject: AdmittedObject | undefined;
    try {
      object = request.object && inStorageVersion(request.object);
      oldObject = request.oldObject && inStorageVersion(request.oldObject);
    } catch (error) {
      return {
        status: 200,
        body: review({ uid: request.uid, allowed: false, status: { code: 400, reason: 'BadRequest', message: (error as Error).message } }),
      };
    }
    if (
      !object ||
      (request.operation !== 'CREATE' && request.operation !== 'UPDATE') ||
      (object.kind !== 'SpicepodSet' && object.kind !== 'SpicepodCluster')
    ) {
      return { status: 200, body: review({ uid: request.uid, allowed: true }) };
    }
    const { level, problem } = effectiveLevel(object.metadata?.annotations, o.level);
    const found = [...(problem ? [problem] : []), ...(await findings(object, o))];
    const before = request.operation === 'UPDATE' && oldObject ? await findings(oldObject, o) : [];
    const decision = decide(found, level, before);
    o.onDecision?.({
      apiVersion: (request.object as { apiVersion?: string }).apiVersion,
      kind: object.kind,
      namespace: object.metadata?.namespace,
      name: object.metadata?.name,
      allowed: decision.allowed,
      level,
      reasons: [...new Set(found.map((f) => f.reason))],
      dryRun: request.dryRun,
    });
    return {
      status: 200,
      body: review({
        uid: request.uid,
        allowed: decision.allowed,
        ...(decision.allowed
          ? {}
          : {
              status: {
                code: 422,
                reason: 'Invalid',
                message: `${object.kind} ${object.metadata?.name ?? ''} refused (${'spice.ai/validation-level'}=${level}): ${decision.message}`,
              },
            }),
        ...(decision.warnings.length ? { warnings: decision.warnings } : {}),
      }),
    };
  };
}
