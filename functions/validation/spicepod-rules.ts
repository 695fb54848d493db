// What spiced refuses at start, checked at apply time. The values come from
// the JSON schema spiced publishes, generated from its serde types
// (.schema/spicepod.schema.json of spiceai/spiceai @ 00674f6d, vendored in
// test/conformance/spiced/; a unit test checks these constants against it):
// `name`, `version` and `kind` are required, `version` is v1 or v2, `kind` is
// Spicepod, and `runtime` has no other keys (additionalProperties: false).
// The top level admits unknown keys (no additionalProperties there): spiced
// ignores them, so we warn rather than refuse.

export const SPICEPOD_VERSIONS = ['v1', 'v2'] as const;
export const SPICEPOD_KIND = 'Spicepod';
export const SPICEPOD_TOP_LEVEL_KEYS = [
  'name',
  'version',
  'kind',
  'runtime',
  'management',
  'snapshots',
  'extensions',
  'secrets',
  'metadata',
  'catalogs',
  'datasets',
  'views',
  'models',
  'embeddings',
  'tools',
  'workers',
  'dependencies',
] as const;
export const SPICEPOD_RUNTIME_KEYS = [
  'results_cache',
  'caching',
  'dataset_load_parallelism',
  'tls',
  'tracing',
  'telemetry',
  'params',
  'task_history',
  'auth',
  'cors',
  'flight',
  'temp_directory',
  'memory_limit',
  'shutdown_timeout',
  'ready_state',
  'output_level',
  'query',
  'metrics',
  'scheduler',
] as const;

export interface SpicepodFinding {
  severity: 'reject' | 'warn';
  field: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Findings about one Spicepod object at `field` (e.g. spec.spicepod). */
export function spicepodFindings(pod: Record<string, unknown>, field: string): SpicepodFinding[] {
  const out: SpicepodFinding[] = [];
  if (typeof pod.name !== 'string') {
    out.push({ severity: 'reject', field: `${field}.name`, message: 'is required: spiced refuses a Spicepod without a name' });
  }
  if (!(SPICEPOD_VERSIONS as readonly unknown[]).includes(pod.version)) {
    out.push({
      severity: 'reject',
      field: `${field}.version`,
      message:
        pod.version === undefined
          ? `is required: spiced reads the Spicepod by its version (${SPICEPOD_VERSIONS.join(' or ')})`
          : `must be ${SPICEPOD_VERSIONS.join(' or ')} (got ${JSON.stringify(pod.version)}): spiced refuses other versions`,
    });
  }
  if (pod.kind !== SPICEPOD_KIND) {
    out.push({
      severity: 'reject',
      field: `${field}.kind`,
      message:
        pod.kind === undefined ? `is required: write kind: ${SPICEPOD_KIND}` : `must be ${SPICEPOD_KIND} (got ${JSON.stringify(pod.kind)})`,
    });
  }
  if (pod.runtime !== undefined && !isObject(pod.runtime)) {
    out.push({ severity: 'reject', field: `${field}.runtime`, message: 'must be an object' });
  } else if (isObject(pod.runtime)) {
    for (const key of Object.keys(pod.runtime)) {
      if (!(SPICEPOD_RUNTIME_KEYS as readonly string[]).includes(key)) {
        out.push({
          severity: 'reject',
          field: `${field}.runtime.${key}`,
          message: `is not a runtime setting spiced knows (it refuses unknown runtime keys); known: ${SPICEPOD_RUNTIME_KEYS.join(', ')}`,
        });
      }
    }
  }
  for (const key of Object.keys(pod)) {
    if (!(SPICEPOD_TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      out.push({ severity: 'warn', field: `${field}.${key}`, message: 'is not a Spicepod section spiced knows: it is ignored (a typo?)' });
    }
  }
  return out;
}
