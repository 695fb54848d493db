// Checks of a spec's NetworkPolicy rules that the CRD schema cannot state:
// port ranges, port names, CIDRs, peers and label selectors, plus the rule
// that keeps a cluster node's internal port 50052 for its own cluster. Each
// problem names the field, so a rule the API server would refuse (or that
// would open 50052) becomes InvalidSpec instead of a failing apply.
import { isDns1123Subdomain } from './kubernetes-names.ts';
import type { z } from 'zod';
import { parseCidr, strictlyContains } from './cidr.ts';
import type { labelSelector, networkPolicyEgressRule, networkPolicyIngressRule } from './kubernetes.ts';
import { DEFAULT_PORTS } from './spicepodset.ts';
import { LABEL_CLUSTER } from '../labels.ts';

/** The internal port of cluster nodes (scheduler gRPC, cluster service; mTLS). */
export const CLUSTER_PORT = 50052;
/** The container port name of CLUSTER_PORT, which a named-port rule could use. */
export const CLUSTER_PORT_NAME = 'cluster';

export interface NetworkProblem {
  field: string;
  message: string;
}

type IngressRule = z.output<typeof networkPolicyIngressRule>;
type EgressRule = z.output<typeof networkPolicyEgressRule>;
type Port = NonNullable<IngressRule['ports']>[number];
type Peer = NonNullable<IngressRule['from']>[number];
type Selector = z.output<typeof labelSelector>;

export interface NetworkRules {
  ingress?: IngressRule[];
  egress?: EgressRule[];
}

/** On a cluster node: the internal port its ingress rules may not open to others. */
export interface ClusterGuard {
  /** The node's internal port (the port of its bind address, 50052 by default). */
  port: number;
  /**
   * The SpicepodCluster whose pods a rule may admit to the port: a rule whose
   * peers are all pods labelled spice.ai/cluster=<this> (in the namespace) may
   * name it. Undefined: the caller does not know the name, and a rule pinned
   * to any cluster name passes here (the caller that knows it checks again).
   */
  clusterName?: string;
}

export interface NetworkRuleFields {
  /** Where the ingress rules were written, e.g. spec.network.ingress (or spec.ingress in the older spelling). */
  ingress: string;
  egress: string;
}

const IANA_PORT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const inPortRange = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

/** A port name as Kubernetes accepts it (IANA_SVC_NAME): what a NetworkPolicy port string must be. */
export function portNameProblem(name: string): string | undefined {
  if (/^[0-9]+$/.test(name))
    return `is the string ${JSON.stringify(name)}, which Kubernetes reads as a port name: write the number ${name} without quotes`;
  if (name.length > 15 || !IANA_PORT_NAME.test(name) || name.includes('--') || !/[a-z]/.test(name)) {
    return `must be a port number (1-65535) or a port name of at most 15 lower-case letters, digits and single hyphens with at least one letter (got ${JSON.stringify(name)})`;
  }
  return undefined;
}

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || !isDns1123Subdomain(prefix))) {
    return `label key ${JSON.stringify(key)} has an invalid prefix: it must be a lower-case DNS subdomain such as example.com`;
  }
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return `label key ${JSON.stringify(key)} is invalid: the name must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return `label value ${JSON.stringify(value)} is invalid: it must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

function selectorProblems(selector: Selector, field: string): NetworkProblem[] {
  const problems: NetworkProblem[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    const message = labelKeyProblem(key) ?? labelValueProblem(value);
    if (message) problems.push({ field: `${field}.matchLabels`, message });
  }
  (selector.matchExpressions ?? []).forEach((expression, i) => {
    const at = `${field}.matchExpressions.${i}`;
    const keyProblem = labelKeyProblem(expression.key);
    if (keyProblem) problems.push({ field: `${at}.key`, message: keyProblem });
    const values = expression.values ?? [];
    if ((expression.operator === 'In' || expression.operator === 'NotIn') && values.length === 0) {
      problems.push({ field: `${at}.values`, message: `must list at least one value for operator ${expression.operator}` });
    }
    if ((expression.operator === 'Exists' || expression.operator === 'DoesNotExist') && values.length > 0) {
      problems.push({ field: `${at}.values`, message: `must be empty for operator ${expression.operator}` });
    }
    values.forEach((value, j) => {
      const message = labelValueProblem(value);
      if (message) problems.push({ field: `${at}.values.${j}`, message });
    });
  });
  return problems;
}

function peerProblems(peer: Peer, field: string): NetworkProblem[] {
  const problems: NetworkProblem[] = [];
  if (!peer.podSelector && !peer.namespaceSelector && !peer.ipBlock) {
    return [{ field, message: 'must set podSelector, namespaceSelector or ipBlock (leave the peer list out to allow every peer)' }];
  }
  if (peer.ipBlock && (peer.podSelector || peer.namespaceSelector)) {
    problems.push({
      field: `${field}.ipBlock`,
      message: 'cannot be combined with podSelector or namespaceSelector in one peer: write them as two peers',
    });
  }
  if (peer.podSelector) problems.push(...selectorProblems(peer.podSelector, `${field}.podSelector`));
  if (peer.namespaceSelector) problems.push(...selectorProblems(peer.namespaceSelector, `${field}.namespaceSelector`));
  if (peer.ipBlock) {
    const cidr = parseCidr(peer.ipBlock.cidr);
    if (!cidr.ok) problems.push({ field: `${field}.ipBlock.cidr`, message: cidr.message });
    (peer.ipBlock.except ?? []).forEach((value, i) => {
      const except = parseCidr(value);
      if (!except.ok) problems.push({ field: `${field}.ipBlock.except.${i}`, message: except.message });
      else if (cidr.ok && !strictlyContains(cidr.cidr, except.cidr)) {
        problems.push({
          field: `${field}.ipBlock.except.${i}`,
          message: `${JSON.stringify(value)} must lie inside cidr ${JSON.stringify(peer.ipBlock!.cidr)} and be smaller than it`,
        });
      }
    });
  }
  return problems;
}

/**
 * Whether an ingress rule admits only pods of this cluster: it lists peers,
 * and each is a podSelector alone (so, in the policy's own namespace) that
 * pins spice.ai/cluster to the cluster's name, by matchLabels or by an `In`
 * expression with that one value. More labels only narrow it. This is the
 * peer rule the product's docs tell users to write.
 */
export function admitsOnlyClusterPods(rule: IngressRule, clusterName: string | undefined): boolean {
  const peers = rule.from ?? [];
  return (
    peers.length > 0 &&
    peers.every((peer) => {
      if (!peer.podSelector || peer.namespaceSelector || peer.ipBlock) return false;
      const pinned = peer.podSelector.matchLabels?.[LABEL_CLUSTER];
      const viaLabels = pinned !== undefined && (clusterName === undefined || pinned === clusterName);
      const viaExpression = (peer.podSelector.matchExpressions ?? []).some(
        (e) =>
          e.key === LABEL_CLUSTER &&
          e.operator === 'In' &&
          e.values?.length === 1 &&
          (clusterName === undefined || e.values[0] === clusterName),
      );
      return viaLabels || viaExpression;
    })
  );
}

/** Whether a port entry (as a cluster node's ingress rule writes it) reaches the internal port. */
function opensClusterPort(port: Port, clusterPort: number): boolean {
  if ((port.protocol ?? 'TCP') !== 'TCP') return false;
  if (port.port === undefined) return true;
  if (typeof port.port === 'string') return port.port === CLUSTER_PORT_NAME;
  return port.port <= clusterPort && clusterPort <= (port.endPort ?? port.port);
}

function portProblems(port: Port, field: string, guard: ClusterGuard | undefined): NetworkProblem[] {
  const problems: NetworkProblem[] = [];
  if (port.port === undefined) {
    if (port.endPort !== undefined)
      problems.push({
        field: `${field}.endPort`,
        message: 'may only be given with a numeric port, as the end of the range that starts there',
      });
  } else if (typeof port.port === 'string') {
    const message = portNameProblem(port.port);
    if (message) problems.push({ field: `${field}.port`, message });
    if (port.endPort !== undefined)
      problems.push({
        field: `${field}.endPort`,
        message: 'may only be given with a numeric port, as the end of the range that starts there',
      });
  } else {
    if (!inPortRange(port.port)) problems.push({ field: `${field}.port`, message: `must be between 1 and 65535 (got ${port.port})` });
    if (port.endPort !== undefined) {
      if (!inPortRange(port.endPort))
        problems.push({ field: `${field}.endPort`, message: `must be between 1 and 65535 (got ${port.endPort})` });
      else if (port.endPort < port.port)
        problems.push({ field: `${field}.endPort`, message: `must not be below port ${port.port} (got ${port.endPort})` });
    }
  }
  if (!problems.length && guard && opensClusterPort(port, guard.port)) {
    const what =
      port.port === undefined
        ? 'allows every TCP port, including'
        : port.endPort !== undefined
          ? `covers ${port.port}-${port.endPort}, which includes`
          : 'opens';
    const peers = guard.clusterName
      ? `podSelector: {matchLabels: {${LABEL_CLUSTER}: ${guard.clusterName}}}`
      : `a podSelector on ${LABEL_CLUSTER}=<cluster>`;
    problems.push({
      field: `${field}.port`,
      message: `${what} the internal cluster port ${guard.port}, which only pods of the same cluster may reach (the operator allows them): list only the public ports (HTTP, Flight, metrics), or admit only the cluster's pods (every peer ${peers}, without namespaceSelector or ipBlock)`,
    });
  }
  return problems;
}

/**
 * Problems of a spec's ingress and egress rules. On cluster nodes (`guard`) an
 * ingress port that reaches the internal port is a problem too: it is for the
 * cluster's own pods.
 */
export function networkRuleProblems(
  network: NetworkRules | undefined,
  fields: NetworkRuleFields,
  guard: ClusterGuard | undefined,
): NetworkProblem[] {
  const problems: NetworkProblem[] = [];
  (network?.ingress ?? []).forEach((rule, i) => {
    (rule.from ?? []).forEach((peer, j) => problems.push(...peerProblems(peer, `${fields.ingress}.${i}.from.${j}`)));
    // A rule that admits only the cluster's own pods may reach the internal port: they may already.
    const ruleGuard = guard && admitsOnlyClusterPods(rule, guard.clusterName) ? undefined : guard;
    (rule.ports ?? []).forEach((port, j) => problems.push(...portProblems(port, `${fields.ingress}.${i}.ports.${j}`, ruleGuard)));
  });
  (network?.egress ?? []).forEach((rule, i) => {
    (rule.to ?? []).forEach((peer, j) => problems.push(...peerProblems(peer, `${fields.egress}.${i}.to.${j}`)));
    (rule.ports ?? []).forEach((port, j) => problems.push(...portProblems(port, `${fields.egress}.${i}.ports.${j}`, undefined)));
  });
  return problems;
}

/** On a cluster node the public ports must differ from the internal one. */
export function clusterPortProblems(
  ports: { httpPort?: number; flightPort?: number; metricsPort?: number },
  prefix: string,
  clusterPort: number = CLUSTER_PORT,
): NetworkProblem[] {
  const internal =
    clusterPort === CLUSTER_PORT
      ? `${CLUSTER_PORT}, the internal cluster port`
      : `${clusterPort}, the internal cluster port (the port of cluster.bindAddress)`;
  return (['httpPort', 'flightPort', 'metricsPort'] as const)
    .filter((name) => (ports[name] ?? DEFAULT_PORTS[name]) === clusterPort)
    .map((name) => ({ field: `${prefix}.${name}`, message: `must differ from ${internal}` }));
}
