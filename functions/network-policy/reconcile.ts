// The network-policy handler: one NetworkPolicy per SpicepodSet, owned by it.
// A SpicepodCluster's child sets (<cluster>-scheduler, <cluster>-executor)
// are SpicepodSets too, so each cluster role gets its own policy this way,
// owned by its set and so, through it, by the cluster.
//
// What the policy says (core/manifests/network-policy.ts has the reasons):
// - the user's network.ingress / network.egress rules, as given;
// - when egress is restricted: DNS (UDP and TCP 53, any destination), unless
//   the user's egress rules already list port 53;
// - when ingress is restricted by the user: ingress from the operator's pods
//   (its namespace and its pod labels) on the HTTP port, for the status API's probes (not on
//   executors, which run no HTTP server);
// - on cluster nodes, always: ingress on 50052 only from pods labelled
//   spice.ai/cluster=<cluster>, egress to them on 50052 when egress is
//   restricted, and the public ports open to all when the user gave no
//   ingress rules (a policy that selects a pod denies every port it does
//   not allow). An ingress rule without ports covers the public ports only.
// A set with neither rules nor a cluster role gets no policy, so removing
// `network` removes exactly what the operator added.
//
// An invalid spec (a bad port, CIDR, selector, a rule opening 50052, or a
// cluster role on a set no SpicepodCluster owns) is reported by the workloads handler (Ready=False, InvalidSpec, an Event);
// this handler then leaves its policy as it is.
import type { Desired, Observed } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { desiredNetworkPolicy } from '../../core/manifests/network-policy.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { clusterMembershipProblem } from '../../core/spec/cluster-node.ts';

export async function reconcileNetworkPolicy(observed: Observed): Promise<Desired> {
  const parent = observed.parent;
  const normalized = normalizeSpicepodSetSpec(parent.spec);
  if (!normalized.ok || clusterMembershipProblem(parent.metadata, normalized.spec.cluster))
    return { apply: [], keep: observed.children.map(refOf) };
  const policy = desiredNetworkPolicy({
    set: parent.metadata.name,
    namespace: parent.metadata.namespace ?? 'default',
    spec: normalized.spec,
    operatorNamespace: observed.config.operatorNamespace,
    operatorPodLabels: observed.config.operatorPodLabels,
  });
  return { apply: policy ? [policy] : [] };
}
