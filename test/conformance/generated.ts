// Every spiced container the operator writes, produced by the operator's own
// handlers from the examples and from specs that reach every branch: the
// SpicepodSet pods (Deployment and StatefulSet modes, BlueGreen), the
// scheduler and executor pods of SpicepodClusters (mutual TLS and
// allowInsecureConnections, with and without address overrides), and the
// sidecars the injector adds. The conformance tests judge each by spiced's
// rules (./spiced-start.ts).
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { HandlerConfig, KubeObject, Observed } from '../../core/handler.ts';
import { SPICEPOD_KEY } from '../../core/manifests/names.ts';
import { reconcileSpicepodCluster } from '../../functions/cluster/index.ts';
import { createAdmission } from '../../functions/injection/index.ts';
import { reconcileSpicepodSet } from '../../functions/workloads/index.ts';
import type { Container, SpicedContainerInput, Volume } from './spiced-start.ts';

export const EXAMPLES_DIR = new URL('../../examples/', import.meta.url).pathname;

/** Telemetry properties as an operator may be started with: values that read as numbers, booleans, or hold `=`. */
export const TELEMETRY_PROPERTIES: Record<string, string> = { env: 'prod', build: '42', canary: 'true', owner: 'team=data', empty: '' };

export const CONFIG: HandlerConfig = {
  operatorNamespace: 'spiceai-operator-system',
  clusterDomain: 'cluster.local',
  pauseCrashloopingPodsThreshold: 10,
  telemetryProperties: TELEMETRY_PROPERTIES,
};

export interface GeneratedContainer extends SpicedContainerInput {
  /** Where it comes from, for messages: `example spicepodset-full.yaml: StatefulSet taxi-0`. */
  origin: string;
}

/** Every YAML document of examples/, with its file name. */
export function exampleDocuments(): { file: string; object: KubeObject }[] {
  return readdirSync(EXAMPLES_DIR)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(`${EXAMPLES_DIR}${file}`, 'utf8'))
        .map((d) => d.toJS() as KubeObject)
        .filter(Boolean)
        .map((object) => ({ file, object })),
    );
}

function observed(parent: KubeObject, config: HandlerConfig = CONFIG): Observed {
  return {
    parent: { ...parent, metadata: { generation: 1, uid: `uid-${parent.metadata.name}`, ...parent.metadata } },
    children: [],
    related: {},
    now: Date.UTC(2026, 0, 1),
    config,
  };
}

/** The workloads handler's pods for a SpicepodSet, with the Spicepod of its ConfigMap. */
export async function setContainers(set: KubeObject, origin: string, config: HandlerConfig = CONFIG): Promise<GeneratedContainer[]> {
  const desired = await reconcileSpicepodSet(observed(set, config));
  const configMap = desired.apply.find((o) => o.kind === 'ConfigMap');
  const spicepodText = (configMap as { data?: Record<string, string> } | undefined)?.data?.[SPICEPOD_KEY];
  const spicepod = spicepodText === undefined ? undefined : parseYaml(spicepodText);
  const out: GeneratedContainer[] = [];
  for (const workload of desired.apply.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet')) {
    const template = (
      workload as unknown as { spec: { template: { spec: { containers: Container[]; initContainers?: Container[]; volumes?: Volume[] } } } }
    ).spec.template;
    // A StatefulSet's one pod is <name>-0; the kubelet expands $(POD_NAME) to it.
    const podName = workload.kind === 'StatefulSet' ? `${workload.metadata.name}-0` : `${workload.metadata.name}-5d8f7c9b4-x2x7q`;
    for (const container of [...template.spec.containers, ...(template.spec.initContainers ?? [])]) {
      out.push({
        origin: `${origin}: ${workload.kind} ${workload.metadata.name}`,
        container,
        volumes: template.spec.volumes ?? [],
        spicepod,
        fields: { 'metadata.name': podName, 'metadata.namespace': set.metadata.namespace ?? 'default' },
      });
    }
  }
  if (!out.length)
    throw new Error(`${origin}: the workloads handler wrote no pods (${JSON.stringify(desired.status?.conditions ?? desired.status)})`);
  return out;
}

/** A SpicepodCluster's child sets as the cluster handler writes them (owned by the cluster, as the shim makes them), then their pods. */
export async function clusterContainers(
  cluster: KubeObject,
  origin: string,
  config: HandlerConfig = CONFIG,
): Promise<GeneratedContainer[]> {
  const desired = await reconcileSpicepodCluster(observed(cluster, config));
  const sets = desired.apply.filter((o) => o.kind === 'SpicepodSet');
  if (sets.length !== 2)
    throw new Error(`${origin}: the cluster handler wrote ${sets.length} child sets (${JSON.stringify(desired.status?.conditions)})`);
  const owned = sets.map((set) => ({
    ...set,
    metadata: {
      ...set.metadata,
      ownerReferences: [
        {
          apiVersion: cluster.apiVersion,
          kind: cluster.kind,
          name: cluster.metadata.name,
          uid: `uid-${cluster.metadata.name}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
  }));
  return (await Promise.all(owned.map((set) => setContainers(set, `${origin} -> SpicepodSet ${set.metadata.name}`, config)))).flat();
}

interface PatchOp {
  op: string;
  path: string;
  value?: unknown;
}

/** The sidecar the injector adds to a Pod (JSON patch `add` ops applied as the API server would). */
export async function sidecarContainers(
  annotations: Record<string, string>,
  origin: string,
  spicepodYaml: string,
  telemetryProperties = TELEMETRY_PROPERTIES,
): Promise<GeneratedContainer[]> {
  const admit = createAdmission({
    defaults: { image: 'spiceai/spiceai:latest-models', imagePullPolicy: 'IfNotPresent' },
    operatorNamespace: CONFIG.operatorNamespace,
    telemetryProperties,
    getConfigMap: async () => ({ data: { [SPICEPOD_KEY]: spicepodYaml } }),
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'app',
      namespace: 'apps',
      annotations: { 'spice.ai/inject': 'true', 'spice.ai/spicepod-configmap': 'app-spicepod', ...annotations },
    },
    spec: { containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080 }] }] },
  };
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'apps',
      operation: 'CREATE',
      object: pod,
    },
  };
  const result = await admit(JSON.stringify(review));
  const response = (result.body as { response?: { allowed?: boolean; patch?: string; status?: { message?: string } } }).response;
  if (!response?.allowed || !response.patch)
    throw new Error(`${origin}: the injector did not inject (${response?.status?.message ?? JSON.stringify(result.body)})`);
  const spec = structuredClone(pod.spec) as Record<string, unknown>;
  for (const op of JSON.parse(atob(response.patch)) as PatchOp[]) {
    if (op.op !== 'add' || !op.path.startsWith('/spec/')) continue;
    const parts = op.path.slice('/spec/'.length).split('/');
    if (parts.length === 1) spec[parts[0]!] = op.value;
    else if (parts.length === 2 && parts[1] === '-') ((spec[parts[0]!] ??= []) as unknown[]).push(op.value);
  }
  const containers = [...((spec.initContainers as Container[] | undefined) ?? []), ...(spec.containers as Container[])].filter(
    (c) => c.name !== 'app',
  );
  return containers.map((container) => ({
    origin: `${origin}: injected ${container.name}`,
    container,
    volumes: (spec.volumes as Volume[] | undefined) ?? [],
    spicepod: parseYaml(spicepodYaml),
  }));
}

/** Variants of an object, each a deep copy with a change applied. */
function variant<T extends KubeObject>(object: T, name: string, change: (spec: Record<string, any>) => void): T {
  const copy = structuredClone(object);
  copy.metadata.name = name;
  change(copy.spec as Record<string, any>);
  return copy;
}

/** Every container the operator generates, from the examples and the variants that reach every branch. */
export async function everyGeneratedContainer(): Promise<GeneratedContainer[]> {
  const out: GeneratedContainer[] = [];
  const docs = exampleDocuments();
  for (const { file, object } of docs) {
    if (object.kind === 'SpicepodSet') {
      out.push(...(await setContainers(object, `example ${file}`)));
      // Both workload modes of every example: one replica (a Deployment unless the spec needs StatefulSets) and three.
      out.push(
        ...(await setContainers(
          variant(object, `${object.metadata.name}-one`, (s) => {
            s.replicas = 1;
            delete s.volume;
            if (s.updateStrategy) s.updateStrategy = { type: 'RollingOrdered' };
          }),
          `example ${file}, 1 replica`,
        )),
      );
      out.push(
        ...(await setContainers(
          variant(object, `${object.metadata.name}-three`, (s) => {
            s.replicas = 3;
            if (s.updateStrategy) s.updateStrategy = { type: 'RollingParallel' };
          }),
          `example ${file}, 3 replicas`,
        )),
      );
    }
    if (object.kind === 'SpicepodCluster') {
      out.push(...(await clusterContainers(object, `example ${file}`)));
      out.push(
        ...(await clusterContainers(
          variant(object, `${object.metadata.name}-insecure`, (s) => {
            s.allowInsecureConnections = true;
          }),
          `example ${file}, allowInsecureConnections`,
        )),
      );
      out.push(
        ...(await clusterContainers(
          variant(object, `${object.metadata.name}-ports`, (s) => {
            s.schedulerSetSpec.httpPort = 8091;
            s.schedulerSetSpec.flightPort = 50061;
            s.schedulerSetSpec.metricsPort = 9091;
            s.executorSetSpec.flightPort = 50071;
          }),
          `example ${file}, other public ports`,
        )),
      );
      out.push(
        ...(await clusterContainers(
          variant(object, `${object.metadata.name}-overrides`, (s) => {
            s.schedulerSetSpec.cluster = { bindAddress: '0.0.0.0:6000', advertiseAddress: '$(POD_NAME).scheduler.example.com' };
            s.executorSetSpec.cluster = { bindAddress: '[::]:6000', advertiseAddress: '$(POD_NAME).executor.example.com' };
            s.executorSetSpec.probes = { liveness: { periodSeconds: 20 } };
          }),
          `example ${file}, bind and advertise addresses overridden, executor liveness probe`,
        )),
      );
    }
  }
  const spicepod = 'version: v1\nkind: Spicepod\nname: demo\n';
  out.push(...(await sidecarContainers({}, 'sidecar with the default ports', spicepod)));
  out.push(
    ...(await sidecarContainers(
      { 'spice.ai/http-port': '28090', 'spice.ai/flight-port': '25051', 'spice.ai/metrics-port': '29090' },
      'sidecar with annotated ports',
      spicepod,
    )),
  );
  return out;
}
