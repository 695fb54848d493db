// A cluster node's internal addresses, as spiced reads them, and the rules
// the operator's overrides of them must follow.
//
// spiced (spiceai/spiceai, crates/runtime/src/config.rs @ 0fa20ff5 and
// crates/runtime/src/cluster/mod.rs @ 0116d450):
// - `--node-bind-address` is a std::net::SocketAddr: `IP:port` (IPv6 in
//   brackets), never a host name; the node listens there.
// - `--node-advertise-address` is the host name or IP peers dial; a port in it
//   is dropped with a warning, and the node advertises
//   `https://<advertise>:<port of --node-bind-address>`.
// So the bind port is the node's internal port everywhere: its container
// port, its headless Service port, the port executors dial the scheduler on,
// the NetworkPolicy rules, and the advertise address must be in its
// certificate's SANs (functions/pki takes them from clusterNodes()).
import { encodeIpAddress, normalizeDnsName } from '../pki/san.ts';
import { CLUSTER_PORT } from './network.ts';

/** What `$(POD_NAME)` (expanded by the kubelet from the pod's own name) becomes in a node's arguments. */
export const POD_NAME_REFERENCE = '$(POD_NAME)';

export interface NodeAddresses {
  bindAddress?: string;
  advertiseAddress?: string;
}

export interface NodeProblem {
  field: string;
  message: string;
}

const BIND_EXAMPLE = 'e.g. 0.0.0.0:50052, or [::]:50052 for IPv6';

/** `IP:port` as Rust's SocketAddr parses it (IPv4 without leading zeros, IPv6 in brackets). */
export function parseBindAddress(value: string): { ip: string; port: number } | undefined {
  const v6 = /^\[([^\]]+)\]:([0-9]+)$/.exec(value);
  const v4 = /^([^:[\]]+):([0-9]+)$/.exec(value);
  const match = v6 ?? v4;
  if (!match) return undefined;
  const [, ip, port] = match;
  if (v6 && !ip!.includes(':')) return undefined;
  try {
    encodeIpAddress(ip!);
  } catch {
    return undefined;
  }
  if (Number(port) > 65535) return undefined;
  return { ip: ip!, port: Number(port) };
}

/** The node's internal port: the port of its bind address (default 50052). */
export function clusterNodePort(node: NodeAddresses | undefined): number {
  return (node?.bindAddress && parseBindAddress(node.bindAddress)?.port) || CLUSTER_PORT;
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

export function bindAddressProblem(value: string): string | undefined {
  const parsed = parseBindAddress(value);
  if (!parsed) {
    return `must be IP:port (${JSON.stringify(value)} is not): spiced reads it as a socket address, so a host name such as localhost is refused; ${BIND_EXAMPLE}`;
  }
  if (parsed.port < 1) return `must have a port from 1 to 65535 (got ${parsed.port}): peers dial this port`;
  if (isLoopback(parsed.ip)) return `binds to loopback (${parsed.ip}): no peer could reach the node; ${BIND_EXAMPLE}`;
  return undefined;
}

/** The host name or IP a node advertises, for one pod name. */
export function advertisedHost(advertiseAddress: string, podName: string): string {
  return advertiseAddress.split(POD_NAME_REFERENCE).join(podName);
}

/** Whether an advertised host is an IP literal (an IP SAN) rather than a DNS name. */
export function isIpHost(host: string): boolean {
  try {
    encodeIpAddress(host);
    return true;
  } catch {
    return false;
  }
}

export function advertiseAddressProblem(value: string, replicas: number): string | undefined {
  if (/:[0-9]+$/.test(value) && !value.startsWith('[') && value.split(':').length === 2) {
    return `must be a host name or IP without a port (spiced ignores it and uses the port of bindAddress): write ${JSON.stringify(value.slice(0, value.lastIndexOf(':')))}`;
  }
  if (value.includes('$(') && value.split(POD_NAME_REFERENCE).join('').includes('$(')) {
    return `may only use the reference ${POD_NAME_REFERENCE} (the pod's name), got ${JSON.stringify(value)}`;
  }
  const sample = advertisedHost(value, 'pod-0');
  if (value.includes(':') || value.startsWith('[')) {
    // mod.rs reads a trailing ":<digits>" as a port and advertises https://<host>:<port> without brackets.
    return `must be a DNS name or an IPv4 address: spiced cannot advertise an IPv6 address (it builds https://<address>:<port> without brackets)`;
  }
  if (!isIpHost(sample)) {
    try {
      normalizeDnsName(sample);
    } catch {
      return `must be a DNS name or an IP address peers can dial (got ${JSON.stringify(value)})`;
    }
    if (sample.startsWith('*.')) return 'must name one host, not a wildcard';
  }
  if (replicas > 1 && !value.includes(POD_NAME_REFERENCE)) {
    return `is the same for all ${replicas} replicas, so every node would advertise one address: include ${POD_NAME_REFERENCE} (e.g. ${POD_NAME_REFERENCE}.nodes.example.com), or leave it out for the pod's own DNS name`;
  }
  return undefined;
}

/** Problems of one node spec's overrides; `prefix` is where they were written (spec.schedulerSetSpec.cluster). */
export function nodeAddressProblems(node: NodeAddresses | undefined, replicas: number, prefix: string): NodeProblem[] {
  const problems: NodeProblem[] = [];
  if (node?.bindAddress !== undefined) {
    const message = bindAddressProblem(node.bindAddress);
    if (message) problems.push({ field: `${prefix}.bindAddress`, message });
  }
  if (node?.advertiseAddress !== undefined) {
    const message = advertiseAddressProblem(node.advertiseAddress, replicas);
    if (message) problems.push({ field: `${prefix}.advertiseAddress`, message });
  }
  return problems;
}

interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  controller?: boolean;
}

/**
 * `spec.cluster` is what a SpicepodCluster sets on its two child sets. A
 * SpicepodSet carrying it without being such a child would mount a node
 * Secret nobody issues and dial a scheduler nobody runs: its pods would wait
 * for ever. It is refused instead, naming the field.
 */
export function clusterMembershipProblem(
  metadata: { ownerReferences?: OwnerReference[] },
  cluster: { clusterName?: string } | undefined,
): NodeProblem | undefined {
  if (!cluster) return undefined;
  const owner = (metadata.ownerReferences ?? []).find(
    (o) => o.controller && o.kind === 'SpicepodCluster' && o.apiVersion.startsWith('spice.ai/'),
  );
  if (owner && owner.name === cluster.clusterName) return undefined;
  return {
    field: 'spec.cluster',
    message: owner
      ? `names cluster ${JSON.stringify(cluster.clusterName ?? '')}, but the set belongs to SpicepodCluster ${JSON.stringify(owner.name)}: leave spec.cluster to the SpicepodCluster`
      : 'is set by a SpicepodCluster on its own child sets only: no SpicepodCluster owns this set, so no node certificate or scheduler would ever exist for it and its pods would wait for ever. Create a SpicepodCluster (spice.ai/v1alpha1) instead, or remove spec.cluster',
  };
}
