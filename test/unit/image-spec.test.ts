// The Dockerfile (for users with Docker) and `npm run image` (assembled here,
// no Docker engine) build the same image: both are held to scripts/image/spec.ts.
// test/integration/image.test.ts compares the assembled image with the Dockerfile too.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readDockerfile } from '../../scripts/image/dockerfile.ts';
import {
  BUNDLE_PATH,
  CMD,
  ENTRYPOINT,
  ENV,
  NODE_PATH,
  PORTS,
  RUNTIME,
  USER_ID,
  VERSION,
  WORKDIR,
  labels,
} from '../../scripts/image/spec.ts';

const dockerfile = readDockerfile();
const major = RUNTIME.node.version.split('.')[0]!;

test('both builds run the same Node LTS major on the same Debian release', () => {
  assert.is(dockerfile.base, RUNTIME.dockerfileBase);
  assert.match(dockerfile.base, new RegExp(`^gcr\\.io/distroless/nodejs${major}-debian${RUNTIME.debian.release}:nonroot$`));
  assert.match(dockerfile.buildBase, new RegExp(`^node:${major}-`));
  assert.ok(['22', '24'].includes(major), `Node ${major} is a supported LTS`);
});

test('same entrypoint, command, user, working directory and ports', () => {
  assert.equal(dockerfile.entrypoint, ENTRYPOINT);
  assert.is(dockerfile.entrypoint[0], NODE_PATH, 'distroless keeps node at /nodejs/bin/node');
  assert.equal(dockerfile.cmd, CMD);
  assert.is(dockerfile.user, `${USER_ID}:${USER_ID}`);
  assert.is(dockerfile.workdir, WORKDIR);
  assert.equal(dockerfile.exposed, PORTS);
});

test('same environment: the malloc settings', () => {
  assert.equal(dockerfile.env, ENV);
  assert.is(dockerfile.env.MALLOC_ARENA_MAX, '2');
});

test('same files and labels', () => {
  assert.equal(dockerfile.files, [BUNDLE_PATH]);
  assert.equal(dockerfile.labels, labels(VERSION));
});

test('the Dockerfile builds the bundle from the production install only', () => {
  assert.ok(
    dockerfile.buildRuns.some((r) => /^npm ci\b.*--omit=dev/.test(r)),
    dockerfile.buildRuns.join('\n'),
  );
  assert.ok(dockerfile.buildRuns.includes('node scripts/bundle.mjs'));
});

test('the chart runs the image as the user the image declares, at its Node', () => {
  const deployment = readFileSync(new URL('../../chart/templates/deployment.yaml', import.meta.url), 'utf8');
  assert.match(deployment, new RegExp(`runAsUser: ${USER_ID}\\b`));
  assert.match(deployment, new RegExp(`runAsGroup: ${USER_ID}\\b`));
});

test.run();
