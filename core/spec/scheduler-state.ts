// A scheduler's shared state location, which spiced requires before it
// starts: `run` in bin/spiced/src/lib.rs (spiceai/spiceai @ 00fb288d) returns
// "Scheduler mode requires `runtime.scheduler.state_location` to be
// configured in the spicepod" when the Spicepod has no `runtime.scheduler`,
// and its schema makes `state_location` required inside it. The value is
// parsed as a URL (crates/runtime/src/object_store_state.rs @ 2e07dc99,
// `Url::parse`): `file:///path` for one scheduler's local disk, or an object
// store (`s3://bucket/prefix`, `abfss://...`) that several schedulers share.

export const STATE_LOCATION_FIELD = 'spec.schedulerSetSpec.spicepod.runtime.scheduler.state_location';

const EXAMPLES = 'e.g. file:///tmp/spice-cluster for a single scheduler, or s3://bucket/prefix shared by several';

/** Why the scheduler Spicepod would not start spiced as a scheduler, or undefined. */
export function stateLocationProblem(spicepod: Record<string, unknown>): string | undefined {
  const runtime = spicepod.runtime as { scheduler?: { state_location?: unknown } } | undefined;
  const location = runtime?.scheduler?.state_location;
  if (location === undefined || location === null) {
    return `is required: spiced refuses to start a scheduler without it (the cluster keeps its shared state there); set it in the scheduler's Spicepod, ${EXAMPLES}`;
  }
  if (typeof location !== 'string' || location.trim() === '') return `must be a URL (${EXAMPLES})`;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return `${JSON.stringify(location)} is not a URL: spiced parses it as one (${EXAMPLES})`;
  }
  if (url.protocol === 'file:' && url.pathname === '/' && !url.host)
    return `${JSON.stringify(location)} names the root directory: give a directory, ${EXAMPLES}`;
  return undefined;
}
