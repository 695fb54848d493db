// Run under Deno by test/unit/deno.test.ts: exercises core/ with no Node
// APIs available and prints results for comparison with the same calls on Node.
import { allCrds } from '../../core/spec/crds.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';

export function probe(): unknown {
  return {
    crds: allCrds(),
    normalized: normalizeSpicepodSetSpec({
      spicepod: 'name: a\nkind: Spicepod\nversion: v1',
      spiceai_image_tag: '1.0.0',
      update_strategy: { max_unavailable: 2 },
    }),
  };
}

if ((globalThis as { Deno?: unknown }).Deno) console.log(JSON.stringify(probe()));
