// The shared libraries the Node binary links (glibc, libgcc, libstdc++) and
// the distribution's identity (/etc/os-release), from Debian's own packages:
// the same release as the Dockerfile's distroless base (debian12). apt runs
// with a private configuration in the cache (its own sources, lists and
// architecture), so nothing on the machine changes and an arm64 image can be
// assembled on an amd64 machine. The lists are refreshed once a day, so a
// rebuild picks up Debian's security updates as distroless does.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, hasCommand, run } from './cache.ts';
import { RUNTIME, type Arch } from './spec.ts';

const LISTS_MAX_AGE_MS = 24 * 3600_000;

export interface DebianPackage {
  name: string;
  version: string;
  arch: string;
  /** The package's control fields (what scanners read from /var/lib/dpkg/status.d). */
  control: string;
  /** Where its files were extracted. */
  root: string;
}

/**
 * apt's configuration for this cache: given as APT_CONFIG, so it is read before the machine's
 * apt.conf.d (which it replaces: no index targets, hooks or sources of the machine).
 */
function aptConfig(dir: string, arch: Arch): string {
  const options: Record<string, string> = {
    'Dir::Etc::SourceList': join(dir, 'sources.list'),
    'Dir::Etc::SourceParts': '/nonexistent',
    'Dir::Etc::Parts': '/nonexistent',
    'Dir::Etc::Preferences': '/nonexistent',
    'Dir::Etc::PreferencesParts': '/nonexistent',
    'Dir::State': join(dir, 'state'),
    'Dir::State::status': join(dir, 'state', 'status'),
    'Dir::Cache': join(dir, 'cache'),
    'APT::Architecture': arch,
    'APT::Architectures': arch,
    'Acquire::Languages': 'none',
    'Debug::NoLocking': '1',
    // As root, apt downloads as _apt, which cannot write to the user's cache.
    'APT::Sandbox::User': 'root',
  };
  const file = join(dir, 'apt.conf');
  writeFileSync(
    file,
    `${Object.entries(options)
      .map(([k, v]) => `${k} "${v}";`)
      .join('\n')}\n`,
  );
  return file;
}

const aptEnv = (dir: string) => ({ ...process.env, APT_CONFIG: join(dir, 'apt.conf') });

function aptDir(arch: Arch, log: (line: string) => void, refresh: boolean): string {
  for (const cmd of ['apt-get', 'dpkg-deb']) {
    if (!hasCommand(cmd))
      throw new Error(`npm run image needs ${cmd} (Debian or Ubuntu) to fetch the libraries node links; or build with the Dockerfile`);
  }
  const d = RUNTIME.debian;
  if (!existsSync(d.keyring)) throw new Error(`${d.keyring} is missing: apt-get install debian-archive-keyring`);
  const dir = join(cacheRoot(), 'debian', `${d.release}-${arch}`);
  for (const sub of ['state/lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(dir, sub), { recursive: true });
  const signed = `[signed-by=${d.keyring}]`;
  writeFileSync(
    join(dir, 'sources.list'),
    `${[...d.suites.map((s) => `deb ${signed} ${d.mirror} ${s} main`), `deb ${signed} ${d.securityMirror} ${d.securitySuite} main`].join('\n')}\n`,
  );
  if (!existsSync(join(dir, 'state', 'status'))) writeFileSync(join(dir, 'state', 'status'), '');
  aptConfig(dir, arch);
  const stamp = join(dir, 'state', 'updated');
  if (refresh || !existsSync(stamp) || Date.now() - statSync(stamp).mtimeMs > LISTS_MAX_AGE_MS) {
    log(`apt-get update (Debian ${d.release}, ${arch}; private lists in ${dir})`);
    run('apt-get', ['-q', 'update'], { env: aptEnv(dir) });
    writeFileSync(stamp, new Date().toISOString());
  }
  return dir;
}

/** Downloads (cached by version) and extracts the pinned Debian packages for arch. */
export function debianPackages(arch: Arch, log: (line: string) => void = () => {}, refresh = false): DebianPackage[] {
  const dir = aptDir(arch, log, refresh);
  const env = aptEnv(dir);
  const out: DebianPackage[] = [];
  for (const name of RUNTIME.debian.packages) {
    const version = /^\s*Candidate: (\S+)$/m.exec(run('apt-cache', ['policy', name], { env }))?.[1];
    if (!version || version === '(none)') throw new Error(`Debian ${RUNTIME.debian.release} has no ${name} for ${arch}`);
    const file = `${name}_${version.replace(/:/g, '%3a')}_${arch}.deb`;
    const deb = join(dir, 'debs', file);
    if (!existsSync(deb)) {
      log(`apt-get download ${name}=${version} (${arch})`);
      run('apt-get', ['-q', 'download', `${name}=${version}`], { cwd: join(dir, 'debs'), env });
    }
    const root = join(dir, 'root', file.replace(/\.deb$/, ''));
    if (!existsSync(join(root, '.done'))) {
      mkdirSync(root, { recursive: true });
      run('dpkg-deb', ['-x', deb, root]);
      writeFileSync(join(root, '.done'), '');
    }
    out.push({ name, version, arch, control: run('dpkg-deb', ['-f', deb]), root });
  }
  return out;
}

/** Every file (not directory) under dir, as paths relative to it. */
export function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(dir, rel));
    else if (rel !== '.done') out.push(rel);
  }
  return out;
}

export const readText = (path: string) => readFileSync(path, 'utf8');
