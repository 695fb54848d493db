// The NetworkPolicy of a SpicepodSet: the user's `network` rules as given,
// plus only what the pods need to keep working around them (DNS, the
// operator's status probes), plus, on cluster nodes, the rules that keep the
// internal port 50052 for the cluster's own pods.
//
// Why the rules are what they are:
// - NetworkPolicy rules only ever add: a rule can open a port, never close
//   one that another rule (or another policy) opens. So 50052 can only be kept
//   for the cluster if no rule of ours opens it to anyone else. On a cluster
//   node an ingress rule without ports therefore applies to the public ports
//   (HTTP, Flight, metrics), and a rule that names 50052 is an InvalidSpec
//   (core/spec/network.ts).
// - A cluster node always gets a policy, because 50052 must be guarded even
//   when the user restricts nothing. Selecting a pod for ingress denies every
//   port not allowed, so with no user ingress rules the public ports are
//   opened to all, as they were without a policy.
// - The status API's probes are admitted from the operator's pods only: its
//   namespace AND its pod labels (`run --operator-pod-labels`), not from every
//   pod that happens to run in the operator's namespace.
// - DNS egress goes to any destination on UDP and TCP 53: the resolver may be
//   CoreDNS pods, a node-local cache on a link-local address, or an upstream
//   server (dnsPolicy Default/None), none of which one selector covers. Users
//   who want it narrower write their own rule for port 53, and then the
//   operator adds none.
import type { KubeObject } from '../handler.ts';
import { clusterNodePort } from '../spec/cluster-node.ts';
import type { SpicepodSetSpec } from '../spec/spicepodset.ts';
import { commonLabels } from './names.ts';
import { LABEL_APP, LABEL_CLUSTER } from '../labels.ts';

export const DNS_PORT = 53;
/** The label the Helm chart puts on the operator's pods (chart/templates/_helpers.tpl), the default of `run --operator-pod-labels`. */
export const DEFAULT_OPERATOR_POD_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'app.kubernetes.io/name': 'spiceai-operator',
});
/** The namespace label every namespace carries (Kubernetes 1.21+), which selects the operator's. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export const networkPolicyName = (set: string) => set;

type Network = NonNullable<SpicepodSetSpec['network']>;
type IngressRule = NonNullable<Network['ingress']>[number];
type EgressRule = NonNullable<Network['egress']>[number];
type Port = NonNullable<IngressRule['ports']>[number];
type Rule = Record<string, unknown>;

export interface NetworkPolicyContext {
  set: string;
  namespace: string;
  spec: SpicepodSetSpec;
  operatorNamespace: string;
  /** Labels of the operator's pods (default DEFAULT_OPERATOR_POD_LABELS). */
  operatorPodLabels?: Record<string, string>;
}

/**
 * Empty lists and undefined fields dropped: an empty list means the same as
 * an absent one in every NetworkPolicy field, and the API server drops them,
 * so the stored policy then compares equal and a no-op reconcile writes nothing.
 */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(compact);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
      out[k] = compact(v);
    }
    return out;
  }
  return value;
}

const tcp = (port: number): Port => ({ protocol: 'TCP', port });

/** The ports anyone outside the cluster uses: HTTP, Flight, metrics. */
export const publicPorts = (spec: SpicepodSetSpec): Port[] => [tcp(spec.httpPort), tcp(spec.flightPort), tcp(spec.metricsPort)];

/** The pods a cluster node talks to on 50052: its cluster's (or, for a set outside any SpicepodCluster, its own). */
export function clusterPeerSelector(set: string, spec: SpicepodSetSpec): { matchLabels: Record<string, string> } {
  return { matchLabels: spec.cluster?.clusterName ? { [LABEL_CLUSTER]: spec.cluster.clusterName } : { [LABEL_APP]: set } };
}

/** Whether the user's egress rules already say how DNS goes: some rule lists port 53 over UDP or TCP. */
export function userHandlesDns(rules: EgressRule[]): boolean {
  return rules.some((rule) =>
    (rule.ports ?? []).some(
      (p) => (p.protocol ?? 'TCP') !== 'SCTP' && typeof p.port === 'number' && p.port <= DNS_PORT && DNS_PORT <= (p.endPort ?? p.port),
    ),
  );
}

export function dnsEgressRule(): Rule {
  return {
    ports: [
      { protocol: 'UDP', port: DNS_PORT },
      { protocol: 'TCP', port: DNS_PORT },
    ],
  };
}

/**
 * The status API's probes come from the operator's pods: one peer with both a
 * namespaceSelector (the operator's namespace) and a podSelector (the
 * operator's pod labels), which NetworkPolicy ANDs, so other pods of that
 * namespace are not admitted.
 */
export function operatorIngressRule(
  spec: SpicepodSetSpec,
  operatorNamespace: string,
  operatorPodLabels: Record<string, string> = DEFAULT_OPERATOR_POD_LABELS,
): Rule {
  return {
    from: [
      {
        namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: operatorNamespace } },
        podSelector: { matchLabels: { ...operatorPodLabels } },
      },
    ],
    ports: [tcp(spec.httpPort)],
  };
}

export function clusterIngressRule(set: string, spec: SpicepodSetSpec): Rule {
  return { from: [{ podSelector: clusterPeerSelector(set, spec) }], ports: [tcp(clusterNodePort(spec.cluster))] };
}

export function clusterEgressRule(set: string, spec: SpicepodSetSpec): Rule {
  // Peers listen on the same internal port: a SpicepodCluster refuses node specs whose bind ports differ.
  return { to: [{ podSelector: clusterPeerSelector(set, spec) }], ports: [tcp(clusterNodePort(spec.cluster))] };
}

function ingressRules(ctx: NetworkPolicyContext): Rule[] | undefined {
  const { set, spec } = ctx;
  const user = spec.network?.ingress;
  if (!user && !spec.cluster) return undefined;
  const rules: Rule[] = (user ?? []).map((rule) =>
    // On a cluster node, "all ports" would include 50052: a rule without ports means the public ones.
    spec.cluster && !rule.ports?.length ? { ...rule, ports: publicPorts(spec) } : { ...rule },
  );
  // The status API probes spiced's HTTP port; executors run no HTTP server to probe.
  if (user && spec.cluster?.role !== 'executor') rules.push(operatorIngressRule(spec, ctx.operatorNamespace, ctx.operatorPodLabels));
  if (spec.cluster) {
    rules.push(clusterIngressRule(set, spec));
    // No user rules: the public ports stay open to all, as they were without a policy.
    if (!user) rules.push({ ports: publicPorts(spec) });
  }
  return rules;
}

function egressRules(ctx: NetworkPolicyContext): Rule[] | undefined {
  const { set, spec } = ctx;
  const user = spec.network?.egress;
  if (!user) return undefined;
  const rules: Rule[] = user.map((rule) => ({ ...rule }));
  if (!userHandlesDns(user)) rules.push(dnsEgressRule());
  if (spec.cluster) rules.push(clusterEgressRule(set, spec));
  return rules;
}

/** The set's NetworkPolicy, or undefined when nothing is restricted (no ingress/egress rules, not a cluster node). */
export function desiredNetworkPolicy(ctx: NetworkPolicyContext): KubeObject | undefined {
  const ingress = ingressRules(ctx);
  const egress = egressRules(ctx);
  if (!ingress && !egress) return undefined;
  const policyTypes = [...(ingress ? ['Ingress'] : []), ...(egress ? ['Egress'] : [])];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: networkPolicyName(ctx.set), namespace: ctx.namespace, labels: commonLabels(ctx.set, ctx.spec) },
    spec: compact({
      podSelector: { matchLabels: { [LABEL_APP]: ctx.set } },
      policyTypes,
      ingress,
      egress,
    }) as Record<string, unknown>,
  };
}
