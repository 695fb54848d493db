// Judges a SpicepodCluster's node Secrets, through time, by spiced's rules
// (test/conformance/spiced-cluster-pki.ts): at a given moment each node may
// still hold any version of its Secret written within the propagation window
// (the kubelet has not synced yet), or the last one written before it. Every
// such version must load, and every pair of nodes, whatever version each
// holds, must complete a mutual-TLS handshake in both directions.
import type { HandlerConfig } from '../../core/handler.ts';
import { clusterNodes } from '../../core/manifests/spicepodcluster.ts';
import { secretText } from '../../core/secrets.ts';
import { normalizeSpicepodClusterSpec } from '../../core/spec/normalize.ts';
import { peerHandshakes, spicedLoadsClusterPki, type Handshake, type NodeFiles } from '../conformance/spiced-cluster-pki.ts';
import type { Carrier } from './carrier.ts';

export interface NodeVersion {
  node: string;
  /** The pod's DNS name, which peers dial. */
  dnsName: string;
  writtenAt: number;
  files: NodeFiles;
}

/** What each node's pod may hold at `now`, given Secret changes take up to `propagationMs` to arrive. */
export function possibleFiles(world: Carrier, config: HandlerConfig, propagationMs: number): NodeVersion[][] {
  const parent = world.parent;
  const normalized = normalizeSpicepodClusterSpec(parent.spec);
  if (!normalized.ok) throw new Error('invalid spec');
  const nodes = clusterNodes(parent.metadata.name, parent.metadata.namespace!, normalized.spec, config.clusterDomain);
  return nodes.map((node) => {
    const versions = (world.history.get(`v1/Secret/${parent.metadata.namespace}/${node.secret}`) ?? []).filter((v) => v.at <= world.now);
    const settled = versions.filter((v) => v.at <= world.now - propagationMs).at(-1);
    const inFlight = versions.filter((v) => v.at > world.now - propagationMs);
    return [...(settled ? [settled] : []), ...inFlight]
      .filter((v) => v.object)
      .map((v) => ({
        node: node.pod,
        dnsName: node.dnsNames[0]!,
        writtenAt: v.at,
        files: {
          ca: secretText(v.object, 'ca.crt') ?? '',
          cert: secretText(v.object, 'tls.crt') ?? '',
          key: secretText(v.object, 'tls.key') ?? '',
        },
      }));
  });
}

/** Every way the files at this moment break spiced (empty when none). */
export async function spicedProblems(world: Carrier, config: HandlerConfig, propagationMs: number): Promise<string[]> {
  const perNode = possibleFiles(world, config, propagationMs);
  const problems: string[] = [];
  for (const versions of perNode) {
    for (const v of versions) {
      const loaded = await spicedLoadsClusterPki(v.files);
      if (!loaded.ok) problems.push(`${v.node} (files of ${new Date(v.writtenAt).toISOString()}) does not load: ${loaded.error}`);
    }
  }
  const handshakes: (Handshake & { label: string })[] = [];
  for (const [i, a] of perNode.entries()) {
    for (const [j, b] of perNode.entries()) {
      if (i === j) continue;
      for (const va of a) {
        for (const vb of b) {
          const label = `${va.node}@${new Date(va.writtenAt).toISOString()} -> ${vb.node}@${new Date(vb.writtenAt).toISOString()}`;
          // a dials b (checks b's name), and b's certificate as a client certificate a receives.
          handshakes.push({ label: `${label} (dial)`, verifier: va.files, presenter: vb.files, serverName: vb.dnsName });
          handshakes.push({ label: `${label} (client cert)`, verifier: va.files, presenter: vb.files });
        }
      }
    }
  }
  const results = peerHandshakes(handshakes);
  results.forEach((error, i) => {
    if (error) problems.push(`${handshakes[i]!.label}: ${error}`);
  });
  return problems;
}
