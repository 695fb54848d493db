// Run under Deno by test/unit/deno.test.ts: exercises core/ with no Node
// APIs available and prints results for comparison with the same calls on Node.
import { allCrds } from '../../core/spec/crds.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { replicaPodTemplate, templateRevision } from '../../core/manifests/spicepodset.ts';

export function probe(): unknown {
  const normalized = normalizeSpicepodSetSpec({
    spicepod: 'name: a\nkind: Spicepod\nversion: v1',
    spiceai_image_tag: '1.0.0',
    update_strategy: { max_unavailable: 2 },
  });
  const config = { operatorNamespace: 'ops', clusterDomain: 'cluster.local', pauseCrashloopingPodsThreshold: 10, telemetryProperties: {} };
  return {
    crds: allCrds(),
    normalized,
    // The pod template and its revision hash: a runtime that rendered or hashed differently would roll every pod.
    revisioned: normalized.ok
      ? ((ctx) => ({ revision: templateRevision(ctx), template: replicaPodTemplate(ctx, { selectorLabels: { app: 'a' } }) }))({
          set: 'a',
          namespace: 'ns',
          spec: normalized.spec,
          config,
        })
      : undefined,
  };
}

if ((globalThis as { Deno?: unknown }).Deno) console.log(JSON.stringify(probe()));
