// How long a SpicepodSet's name may be: every name derived from it must be
// one the API server and the controllers accept. The set name is a label
// value (spice.ai/app), the Service `<set>` and the headless Service
// `<set>-headless` are DNS-1035 labels (Service names; RelaxedServiceNameValidation
// is alpha and off in 1.34), and a StatefulSet `<set>-<ordinal>` (BlueGreen:
// `<set>-<version>-<ordinal>`) is a DNS-1123 label whose pods carry the label
// controller-revision-hash=<statefulset>-<hash of up to 10 characters>
// (k8s.io/kubernetes v1.34.4 pkg/controller/history ControllerRevisionName), a
// label value of at most 63: so at most 52 characters. A longer one is
// accepted as an object and then its pods are refused.
import type { SpecProblem } from '../spec/normalize.ts';
import { dns1035LabelProblem, dns1123LabelProblem, labelValueProblem, LABEL_VALUE_MAX } from '../spec/kubernetes-names.ts';
import type { SpicepodSetSpec } from '../spec/spicepodset.ts';
import { names } from './names.ts';
import { workloadMode } from './spicepodset.ts';

/** The controller-revision-hash suffix: '-' and a hash of up to 10 characters. */
const REVISION_HASH_SUFFIX = 11;
export const STATEFULSET_NAME_MAX = LABEL_VALUE_MAX - REVISION_HASH_SUFFIX;
/** BlueGreen versions are content hashes of this length (templateRevision). */
const VERSION_LENGTH = 10;

const FIELD = 'metadata.name';

export function setNameProblems(set: string, spec: SpicepodSetSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const asLabel = labelValueProblem(set);
  if (asLabel)
    return [
      {
        field: FIELD,
        message: `${JSON.stringify(set)} is the value of the pods' spice.ai/app label, which allows at most ${LABEL_VALUE_MAX} characters: ${asLabel}`,
      },
    ];
  if (spec.enableService) {
    const service = dns1035LabelProblem(names.service(set));
    if (service)
      problems.push({
        field: FIELD,
        message: `names the set's Service, so it must be a DNS-1035 label: ${service} (or set enableService: false)`,
      });
  }
  if (workloadMode(spec) === 'StatefulSets') {
    const headless = names.headlessService(set);
    const headlessProblem = dns1035LabelProblem(headless);
    if (headlessProblem) {
      problems.push({
        field: FIELD,
        message: `names the headless Service ${JSON.stringify(headless)}, which must be a DNS-1035 label: ${headlessProblem}; the set name may have at most ${63 - (headless.length - set.length)} characters`,
      });
    }
    const version = spec.updateStrategy.type === 'BlueGreen' ? 'x'.repeat(VERSION_LENGTH) : undefined;
    const longest = names.statefulSet(set, Math.max(spec.replicas, 1) - 1, version);
    const label = dns1123LabelProblem(longest);
    if (longest.length > STATEFULSET_NAME_MAX) {
      const room = STATEFULSET_NAME_MAX - (longest.length - set.length);
      problems.push({
        field: FIELD,
        message: `is too long for its StatefulSets: ${version ? `<set>-<version>-<ordinal>, e.g. ${JSON.stringify(names.statefulSet(set, Math.max(spec.replicas, 1) - 1, '<version>'))}` : JSON.stringify(longest)} must fit in ${STATEFULSET_NAME_MAX} characters (its pods' controller-revision-hash label adds 11 to at most 63); shorten the name to at most ${room} characters`,
      });
    } else if (label && !headlessProblem) {
      problems.push({ field: FIELD, message: `names the StatefulSets, which must be DNS-1123 labels: ${label}` });
    }
  }
  return problems;
}
