// The compiler, the linter and the formatter are part of `npm test`: a type error, a lint
// finding or an unformatted file fails the run like a failing test (biome.jsonc says which rules and
// why some are off).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = new URL('../../', import.meta.url).pathname;
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const run = (command: string, args: string[]) =>
  spawnSync(command, args, { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

test('tsc finds no type error (npm run typecheck)', () => {
  const r = run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('biome finds nothing to report (npm run lint)', () => {
  const r = run(bin('biome'), ['lint', '--error-on-warnings', '.']);
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`);
});

test('every file is formatted as biome.jsonc says (npm run format)', () => {
  const r = run(bin('biome'), ['format', '.']);
  assert.is(r.status, 0, `${r.stdout}${r.stderr}`.slice(0, 4000));
});

test.run();
