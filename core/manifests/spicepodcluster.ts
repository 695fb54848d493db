// SpicepodCluster spec -> its two child SpicepodSets (schedulers, executors)
// and the identity of every node: names, stable DNS names, certificate SANs.
import type { KubeObject } from '../handler.ts';
import type { SpicepodClusterSpec } from '../spec/spicepodcluster.ts';
import { names } from './names.ts';
import { headlessServiceDnsName, podDnsName } from './pod-template.ts';
import { advertisedHost, clusterNodePort, isIpHost } from '../spec/cluster-node.ts';
import { LABEL_CLUSTER, LABEL_CLUSTER_ROLE } from '../labels.ts';

export type ClusterRole = 'scheduler' | 'executor';

export const clusterNames = {
  childSet: (cluster: string, role: ClusterRole) => `${cluster}-${role}`,
  /** The CA (certificate and key) in the operator namespace: one per cluster. */
  caSecret: (namespace: string, cluster: string) => `spiceai-ca-${namespace}-${cluster}`,
  /** The CA certificate(s) published in the cluster's namespace. */
  caBundle: (cluster: string) => `${cluster}-ca`,
};

/** The placeholder Spicepod of executors: they fetch the real one from the scheduler (GetAppDefinition). */
export const executorSpicepod = (cluster: string) => ({ version: 'v1', kind: 'Spicepod', name: `${cluster}-executor` });

/**
 * The URL executors dial first: the scheduler set's headless Service, on the
 * schedulers' internal port (the port of their bind address). From there
 * spiced learns each scheduler's advertised address.
 */
export function schedulerAddress(cluster: string, namespace: string, clusterDomain: string, insecure: boolean, port: number): string {
  const host = headlessServiceDnsName(clusterNames.childSet(cluster, 'scheduler'), namespace, clusterDomain);
  return `${insecure ? 'http' : 'https'}://${host}:${port}`;
}

export function desiredChildSet(
  cluster: string,
  namespace: string,
  spec: SpicepodClusterSpec,
  role: ClusterRole,
  clusterDomain: string,
): KubeObject {
  const {
    cluster: overrides,
    spicepod,
    ...fields
  } = role === 'scheduler' ? spec.schedulerSetSpec : { ...spec.executorSetSpec, spicepod: undefined };
  const insecure = spec.allowInsecureConnections;
  return {
    apiVersion: 'spice.ai/v1',
    kind: 'SpicepodSet',
    metadata: {
      name: clusterNames.childSet(cluster, role),
      namespace,
      labels: { [LABEL_CLUSTER]: cluster, [LABEL_CLUSTER_ROLE]: role },
    },
    spec: {
      ...fields,
      // On executors only liveness (on /health) can be set: the spec's readiness timings are refused before this.
      spicepod: role === 'scheduler' ? spicepod : executorSpicepod(cluster),
      cluster: {
        role,
        clusterName: cluster,
        allowInsecureConnections: insecure,
        ...overrides,
        schedulerAddress:
          role === 'executor'
            ? schedulerAddress(cluster, namespace, clusterDomain, insecure, clusterNodePort(spec.schedulerSetSpec.cluster))
            : undefined,
      },
    },
  };
}

export interface ClusterNode {
  role: ClusterRole;
  ordinal: number;
  /** The child SpicepodSet. */
  set: string;
  statefulSet: string;
  pod: string;
  /** The Secret with this node's ca.crt, tls.crt and tls.key. */
  secret: string;
  dnsNames: string[];
  ipAddresses: string[];
}

/**
 * Every node of the cluster, with the names its peers dial (DESIGN §6): its
 * stable DNS name, the headless Service's names, and the address it
 * advertises when `cluster.advertiseAddress` overrides it (a DNS or IP SAN,
 * `$(POD_NAME)` replaced by the pod's name), since peers dial
 * `https://<advertised address>:<port>` and check it against the certificate.
 */
export function clusterNodes(cluster: string, namespace: string, spec: SpicepodClusterSpec, clusterDomain: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const role of ['scheduler', 'executor'] as const) {
    const set = clusterNames.childSet(cluster, role);
    const nodeSpec = role === 'scheduler' ? spec.schedulerSetSpec : spec.executorSetSpec;
    const replicas = nodeSpec.replicas;
    const advertise = nodeSpec.cluster?.advertiseAddress;
    const headless = names.headlessService(set);
    const serviceNames = [
      headless,
      `${headless}.${namespace}`,
      `${headless}.${namespace}.svc`,
      headlessServiceDnsName(set, namespace, clusterDomain),
    ];
    for (let ordinal = 0; ordinal < replicas; ordinal++) {
      const statefulSet = names.statefulSet(set, ordinal);
      const pod = names.statefulSetPod(statefulSet);
      const advertised = advertise === undefined ? undefined : advertisedHost(advertise, pod).toLowerCase();
      const dnsNames = [podDnsName(set, namespace, pod, clusterDomain), ...serviceNames, 'localhost'];
      const ipAddresses = ['127.0.0.1'];
      if (advertised !== undefined) {
        const list = isIpHost(advertised) ? ipAddresses : dnsNames;
        if (!list.includes(advertised)) list.push(advertised);
      }
      nodes.push({ role, ordinal, set, statefulSet, pod, secret: names.nodeTlsSecret(statefulSet), dnsNames, ipAddresses });
    }
  }
  return nodes;
}
