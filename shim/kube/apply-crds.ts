// Server-side apply of the CRDs, for `spiceai-operator crd --apply`.
import { KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { allCrds } from '../../core/spec/crds.ts';
import { UsageError } from '../cli/usage.ts';
import { describeApiError, statusCode } from './errors.ts';
import { loadKubeConfig } from './kubeconfig.ts';

export const FIELD_MANAGER = 'spiceai-operator';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/** Server-side applies each CRD and waits until the API server serves it. */
export async function applyCrds(kubeconfig?: string, context?: string): Promise<{ name: string; result: ApplyResult }[]> {
  const kc = loadKubeConfig(kubeconfig, context);
  const server = kc.getCurrentCluster()?.server;
  const client = KubernetesObjectApi.makeApiClient(kc);
  const results: { name: string; result: ApplyResult }[] = [];
  try {
    for (const crd of allCrds() as unknown as KubernetesObject[]) {
      const name = crd.metadata!.name!;
      let before: string | undefined;
      try {
        before = (await client.read({ apiVersion: crd.apiVersion!, kind: crd.kind!, metadata: { name } })).metadata?.resourceVersion;
      } catch (error) {
        if (statusCode(error) !== 404) throw error;
      }
      const applied = await client.patch(crd, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      const after = applied.metadata?.resourceVersion;
      results.push({ name, result: before === undefined ? 'created' : before === after ? 'unchanged' : 'configured' });
      await waitEstablished(client, crd);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(describeApiError(error, server));
  }
  return results;
}

async function waitEstablished(client: KubernetesObjectApi, crd: KubernetesObject): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const current = (await client.read({ apiVersion: crd.apiVersion!, kind: crd.kind!, metadata: { name: crd.metadata!.name! } })) as {
      status?: { conditions?: { type: string; status: string }[] };
    };
    if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new UsageError(`CRD ${crd.metadata!.name} was applied but is not Established after 30s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

