// Existing specs must not roll: the Deployment and StatefulSets the operator
// renders for the specs users already have are pinned here, as canonical-JSON
// hashes recorded before spice.ai/v2's volume fields were acted on. A change
// to any of them changes the pod template (a rollout of every such set on
// upgrade) or an immutable field (a refused StatefulSet). If one changes on
// purpose, say so in the commit and the README's upgrade notes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { contentHash } from '../../core/manifests/hash.ts';
import { desiredDeployment, desiredStatefulSet, workloadMode, type SetContext } from '../../core/manifests/spicepodset.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { handlerConfig, SCHEDULER_SPICEPOD, SPICEPOD } from '../kit/fixtures.ts';

const example = (file: string) => parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')).spec;

export const EXISTING_SPECS: Record<string, Record<string, unknown>> = {
  minimal: { spicepod: SPICEPOD },
  'volume, one replica': { spicepod: SPICEPOD, volume: { storageClassName: 'fast', storageRequests: '10Gi' } },
  'volume without size': { spicepod: SPICEPOD, volume: {} },
  'legacy volume': { spicepod: SPICEPOD, volume: { storage_class_name: 'slow', storage_requests: '2Gi' }, replicas: 2 },
  'three replicas': { spicepod: SPICEPOD, replicas: 3 },
  'blue-green with volume': { spicepod: SPICEPOD, replicas: 2, volume: { storageRequests: '1Gi' }, updateStrategy: { type: 'BlueGreen' } },
  'cluster scheduler': {
    spicepod: SCHEDULER_SPICEPOD,
    replicas: 1,
    volume: { storageRequests: '5Gi' },
    cluster: { role: 'scheduler', clusterName: 'c' },
  },
  'cluster executor': {
    spicepod: SPICEPOD,
    replicas: 2,
    cluster: { role: 'executor', clusterName: 'c', schedulerAddress: 'https://c-scheduler-0.c-scheduler-headless:50052' },
  },
  'examples/spicepodset-full.yaml': example('spicepodset-full.yaml'),
  'examples/spicepodset-legacy.yaml': example('spicepodset-legacy.yaml'),
  'examples/spicepodset-minimal.yaml': example('spicepodset-minimal.yaml'),
};

/** Every workload object a spec renders: the Deployment, or StatefulSet 0 (and a BlueGreen generation's). */
export function renderedWorkloads(spec: Record<string, unknown>): Record<string, string> {
  const normalized = normalizeSpicepodSetSpec(spec);
  if (!normalized.ok) throw new Error(JSON.stringify(normalized.problems));
  const ctx: SetContext = { set: 'app', namespace: 'ns', spec: normalized.spec, config: handlerConfig() };
  if (workloadMode(ctx.spec) === 'Deployment') return { Deployment: contentHash(desiredDeployment(ctx, 1), 16) };
  return {
    StatefulSet: contentHash(desiredStatefulSet(ctx, { ordinal: 0, replicas: 1 }), 16),
    'StatefulSet (generation)': contentHash(
      desiredStatefulSet(ctx, { ordinal: 0, replicas: 1, version: 'abcdef0123', ephemeralClaims: true }),
      16,
    ),
  };
}

const RECORDED: Record<string, Record<string, string>> = {
  minimal: {
    Deployment: '7d876969abdc88d2',
  },
  'volume, one replica': {
    StatefulSet: 'f046715f93e9ae2f',
    'StatefulSet (generation)': 'abb5b69625dec3e6',
  },
  'volume without size': {
    StatefulSet: '35c4c28665d3bb6d',
    'StatefulSet (generation)': 'e656d4033a918f8d',
  },
  'legacy volume': {
    StatefulSet: 'fd81194bdb6ba78b',
    'StatefulSet (generation)': '311a25f079bf9bfd',
  },
  'three replicas': {
    StatefulSet: '8ef4626823b0dcf8',
    'StatefulSet (generation)': '925899752d684044',
  },
  'blue-green with volume': {
    StatefulSet: '35c4c28665d3bb6d',
    'StatefulSet (generation)': 'e656d4033a918f8d',
  },
  'cluster scheduler': {
    StatefulSet: 'a3b46784b1885232',
    'StatefulSet (generation)': '69927ad3753be807',
  },
  'cluster executor': {
    StatefulSet: 'e440bcca1c48e7b2',
    'StatefulSet (generation)': '3e43a56f9fbf29f9',
  },
  'examples/spicepodset-full.yaml': {
    StatefulSet: 'a795de398a8b3561',
    'StatefulSet (generation)': '404bd5b86939a3d4',
  },
  'examples/spicepodset-legacy.yaml': {
    StatefulSet: '71fcbe8e858d73dd',
    'StatefulSet (generation)': 'a4d684a83de0f113',
  },
  'examples/spicepodset-minimal.yaml': {
    Deployment: 'cd8212983e8d2261',
  },
};

test('the workloads of existing specs are byte for byte what the operator rendered before v2 volumes (no rollout on upgrade)', () => {
  const now = Object.fromEntries(Object.entries(EXISTING_SPECS).map(([name, spec]) => [name, renderedWorkloads(spec)]));
  if (process.env.PRINT_GOLDEN) console.log(JSON.stringify(now, null, 2));
  assert.equal(now, RECORDED);
});

test.run();
