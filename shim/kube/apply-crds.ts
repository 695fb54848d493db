// Server-side apply of the CRDs, for `spiceai-operator crd --apply`. It goes
// through the raw client: @kubernetes/client-node re-serializes objects
// through its typed models and drops the x-kubernetes-* schema extensions.
import { allCrds } from '../../core/spec/crds.ts';
import { KubeAccessError } from './access-error.ts';
import { KubeClient, type KObject } from './client.ts';
import { describeApiError } from './errors.ts';
import { loadKubeConfig } from './kubeconfig.ts';

export const FIELD_MANAGER = 'spiceai-operator';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/** Server-side applies each CRD and waits until the API server serves it. */
export async function applyCrds(kubeconfig?: string, context?: string): Promise<{ name: string; result: ApplyResult }[]> {
  const kc = loadKubeConfig(kubeconfig, context);
  const server = kc.getCurrentCluster()?.server;
  const client = new KubeClient(kc, { userAgent: 'spiceai-operator' });
  const results: { name: string; result: ApplyResult }[] = [];
  try {
    for (const crd of allCrds() as unknown as KObject[]) {
      const name = crd.metadata.name;
      const live = await client.get(crd.apiVersion, crd.kind, undefined, name);
      const before = live?.metadata.resourceVersion;
      const applied = await client.apply(keepConversionClient(crd, live), { fieldManager: FIELD_MANAGER, force: true });
      const after = applied.metadata.resourceVersion;
      results.push({ name, result: before === undefined ? 'created' : before === after ? 'unchanged' : 'configured' });
      await waitEstablished(client, crd);
    }
  } catch (error) {
    if (error instanceof KubeAccessError) throw error;
    throw new KubeAccessError(describeApiError(error, server));
  } finally {
    client.close();
  }
  return results;
}

/**
 * The conversion webhook's clientConfig (Service or URL, and caBundle) is the
 * running operator's to set: an upgrade of the CRDs keeps what is live, so it
 * neither points conversion elsewhere nor clears the caBundle until the
 * operator's next check.
 */
export function keepConversionClient(crd: KObject, live: KObject | undefined): KObject {
  const client = (live as { spec?: { conversion?: { webhook?: { clientConfig?: unknown } } } } | undefined)?.spec?.conversion?.webhook
    ?.clientConfig;
  if (!client) return crd;
  const spec = (crd as unknown as { spec: { conversion: { webhook: Record<string, unknown> } } }).spec;
  return {
    ...crd,
    spec: { ...spec, conversion: { ...spec.conversion, webhook: { ...spec.conversion.webhook, clientConfig: client } } },
  } as unknown as KObject;
}

async function waitEstablished(client: KubeClient, crd: KObject): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const current = (await client.get(crd.apiVersion, crd.kind, undefined, crd.metadata.name)) as
      | { status?: { conditions?: { type: string; status: string }[] } }
      | undefined;
    if (current?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return;
    if (Date.now() > deadline) throw new KubeAccessError(`CRD ${crd.metadata.name} was applied but is not Established after 30s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
