// Benchmark of what the Kubernetes client itself costs (prints figures, asserts nothing): the CPU
// this process spends on --requests server-side applies of ConfigMaps (12 in flight) through
// shim/kube's KubeClient, against a baseline in the same run that sends the same requests with
// bare node:https (one keep-alive agent holding the kubeconfig's TLS material, each answer parsed
// as JSON). After an unreported round of each (the JIT warms up), rounds alternate which goes
// first; prints KubeClient CPU / bare CPU per round and the median:
// what the client adds per request (credentials, the metrics hook, deadlines, errors).
//
//   node --import tsx bench/client.ts [--requests 1000] [--rounds 5]
import * as https from 'node:https';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/controlplane/cluster.ts';
import { KubeClient, type KObject } from '../shim/kube/client.ts';
import { loadKubeConfig } from '../shim/kube/kubeconfig.ts';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' } },
  strict: false,
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const IN_FLIGHT = 12;

const cp = await startControlPlane({
  stateDir: new URL('../.cache/bench-cluster', import.meta.url).pathname,
  attached: true,
  log: () => {},
});
const kc = loadKubeConfig(cp.kubeconfigPath);
const client = new KubeClient(kc, { userAgent: 'bench-client', onRequest: () => {} });
const tls: https.RequestOptions = { headers: {} };
await kc.applyToHTTPSOptions(tls);
const bareAgent = new https.Agent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key });
const server = new URL(cp.server);

const configMap = (namespace: string, i: number): KObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: `c-${i}`, namespace, labels: { app: 'bench' } },
  data: { 'spicepod.yaml': 'version: v1\nkind: Spicepod\nname: bench\n'.repeat(5) },
});
const query = 'fieldManager=bench&force=true&fieldValidation=Strict';

function bareApply(obj: KObject): Promise<unknown> {
  const body = Buffer.from(JSON.stringify(obj));
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        hostname: server.hostname,
        port: server.port,
        method: 'PATCH',
        path: `/api/v1/namespaces/${obj.metadata.namespace}/configmaps/${obj.metadata.name}?${query}`,
        agent: bareAgent,
        headers: {
          ...(tls.headers as Record<string, string>),
          'Content-Type': 'application/apply-patch+yaml',
          'Content-Length': body.length,
          Accept: 'application/json',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          res.statusCode! < 300
            ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
            : reject(new Error(`bare apply: ${res.statusCode}`)),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const modes = {
  bare: bareApply,
  KubeClient: (obj: KObject) => client.apply(obj, { fieldManager: 'bench', force: true }),
};

/** CPU milliseconds this process spends on `requests` applies in a new namespace. */
async function cpuOf(mode: keyof typeof modes, namespace: string, requests = REQUESTS): Promise<number> {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await modes[mode](configMap(namespace, -1)); // connections up
  const queue = Array.from({ length: requests }, (_, i) => i);
  const before = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      for (let i = queue.shift(); i !== undefined; i = queue.shift()) await modes[mode](configMap(namespace, i));
    }),
  );
  const used = process.cpuUsage(before);
  await client.delete('v1', 'Namespace', undefined, namespace);
  return (used.user + used.system) / 1000;
}

try {
  for (const mode of ['bare', 'KubeClient'] as const) await cpuOf(mode, `client-warm-${mode.toLowerCase()}`, Math.min(REQUESTS, 500));
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 ? (['bare', 'KubeClient'] as const) : (['KubeClient', 'bare'] as const);
    const ms: Record<string, number> = {};
    for (const mode of order) ms[mode] = await cpuOf(mode, `client-${mode.toLowerCase()}-${round}`);
    ratios.push(ms.KubeClient! / ms.bare!);
    console.log(
      `client round ${round}: CPU for ${REQUESTS} applies: KubeClient ${ms.KubeClient!.toFixed(0)} ms, bare node:https ${ms.bare!.toFixed(0)} ms (ratio ${ratios.at(-1)!.toFixed(2)})`,
    );
  }
  const median = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
  console.log(
    `client, median of ${ROUNDS} rounds: KubeClient CPU / bare node:https CPU ${median.toFixed(2)} (rounds ${ratios.map((r) => r.toFixed(2)).join(', ')})`,
  );
} finally {
  client.close();
  bareAgent.destroy();
  await cp.stop();
}
