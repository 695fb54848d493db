// npm run image: the operator's OCI image, assembled without a Docker engine.
//
//   npm run image [-- --arch amd64,arm64] [--tag NAME:TAG] [--out DIR] [--push REF] [--refresh]
//
// Writes DIR/oci (an OCI image layout, every --arch) and DIR/NAME-ARCH.tar per
// architecture (`docker load -i`, `kind load image-archive`, `k3d image import`,
// `minikube image load`), and with --push copies the layout to a registry with
// crane (built from the Go module proxy by scripts/go-tools/build.sh).
//
// The image is the Dockerfile's, built from what npm and Debian give instead
// of from distroless (see scripts/image/layers.ts): the bundle on the pinned
// Node LTS, non-root, same entrypoint. Every file's owner, mode and time are
// fixed, so the same commit gives the same digests on every machine; the
// runtime layer (node and its libraries) is built once per input and cached.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { bundleOptions } from './bundle.mjs';
import { cacheRoot, run } from './image/cache.ts';
import { debianPackages } from './image/debian.ts';
import { appLayer, runtimeLayer } from './image/layers.ts';
import { hostArch, nodeRuntime } from './image/node-runtime.ts';
import { copyBlob, resetDir, writeDockerArchive, writeImage, writeIndex, writeLayer, type Layer, type PlatformImage } from './image/oci.ts';
import {
  ARCHES,
  BUNDLE_PATH,
  CMD,
  ENTRYPOINT,
  ENV,
  envAssignments,
  IMAGE_NAME,
  PORTS,
  RUNTIME,
  USER_ID,
  VERSION,
  WORKDIR,
  labels,
  type Arch,
} from './image/spec.ts';
import type { TarEntry } from './image/tar.ts';

const root = new URL('..', import.meta.url).pathname;
/** distroless's PATH (nothing in the image needs more) and the malloc settings (spec.ts ENV). */
const IMAGE_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...envAssignments(ENV)];

export interface BuildOptions {
  arches?: Arch[];
  /** NAME:TAG the tarballs carry and the layout is tagged with (TAG). */
  tag?: string;
  out?: string;
  refresh?: boolean;
  log?: (line: string) => void;
}

export interface BuiltImage {
  tag: string;
  layout: string;
  /** The tagged manifest (one arch) or image index (several). */
  digest: string;
  images: (PlatformImage & { tarball: string; libraries: string[]; debian: { name: string; version: string }[] })[];
}

function git(args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The build's time: SOURCE_DATE_EPOCH, else the commit's time (so a commit always gives the same image). */
function buildEpoch(): number {
  if (process.env.SOURCE_DATE_EPOCH) return Number(process.env.SOURCE_DATE_EPOCH);
  return Number(git(['log', '-1', '--format=%ct']) ?? 0);
}

function revision(): string {
  const head = git(['rev-parse', 'HEAD']);
  if (!head) return 'unknown';
  return git(['diff', '--quiet', 'HEAD', '--']) === undefined ? `${head}-dirty` : head;
}

/** The cached runtime layer for these entries (keyed by every entry's metadata and content). */
async function cachedLayer(entries: TarEntry[], mtime: number, log: (line: string) => void): Promise<{ layer: Layer; dir: string }> {
  const key = createHash('sha256').update(`tar-v1 mtime=${mtime}\n`);
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    key.update(JSON.stringify([e.path, e.type, e.mode, e.uid ?? 0, e.gid ?? 0, e.linkname ?? '']));
    if (e.content) key.update(e.content);
  }
  const id = key.digest('hex').slice(0, 32);
  const dir = join(cacheRoot(), 'layers');
  const meta = join(dir, `${id}.json`);
  if (existsSync(meta)) {
    const layer = JSON.parse(readFileSync(meta, 'utf8')) as Layer;
    if (existsSync(join(dir, 'blobs', layer.digest.replace(':', '/')))) return { layer, dir };
  }
  log('compressing the runtime layer (once per Node/Debian version; cached)');
  const layer = await writeLayer(dir, entries, mtime);
  mkdirSync(dir, { recursive: true });
  writeFileSync(meta, JSON.stringify(layer));
  return { layer, dir };
}

export async function buildImage(o: BuildOptions = {}): Promise<BuiltImage> {
  const log = o.log ?? ((line: string) => process.stderr.write(`image: ${line}\n`));
  const arches = o.arches ?? [hostArch()];
  const tag = o.tag ?? `${IMAGE_NAME}:${VERSION}`;
  if (!/^[^:]+:[\w][\w.-]{0,127}$/.test(tag)) throw new Error(`--tag ${tag}: expected NAME:TAG`);
  const out = resolve(o.out ?? join(root, 'dist', 'image'));
  const layout = join(out, 'oci');
  resetDir(layout);

  log(`bundling ${bundleOptions.outfile}`);
  await build(bundleOptions);
  const bundle = join(root, String(bundleOptions.outfile));
  const epoch = buildEpoch();
  const created = new Date(epoch * 1000).toISOString();
  const imageLabels = labels(VERSION, revision());

  const images: BuiltImage['images'] = [];
  for (const arch of arches) {
    const node = nodeRuntime(arch, log);
    const debs = debianPackages(arch, log, o.refresh);
    const runtime = runtimeLayer(arch, node, debs);
    // The runtime layer's time is fixed (not the commit's): it only changes with Node or Debian.
    const cached = await cachedLayer(runtime.entries, 0, log);
    await copyBlob(cached.dir, layout, cached.layer.digest);
    const app = await writeLayer(layout, appLayer(bundle), epoch);
    const image = writeImage(layout, arch, [cached.layer, app], {
      created,
      user: `${USER_ID}:${USER_ID}`,
      workdir: WORKDIR,
      entrypoint: ENTRYPOINT,
      cmd: CMD,
      env: IMAGE_ENV,
      ports: PORTS,
      labels: imageLabels,
      history: [
        {
          created_by: `npm run image: Node ${node.version} (npm ${RUNTIME.node.packages[arch].name}) and ${debs.map((d) => `${d.name} ${d.version}`).join(', ')} (Debian ${RUNTIME.debian.release}, ${arch})`,
          comment: 'runtime',
        },
        { created_by: `npm run image: ${BUNDLE_PATH} (npm run build)`, comment: 'app' },
      ],
    });
    const tarball = join(out, `${IMAGE_NAME}-${arch}.tar`);
    writeDockerArchive(layout, image, tag, tarball);
    images.push({ ...image, tarball, libraries: runtime.libraries, debian: debs.map(({ name, version }) => ({ name, version })) });
    log(`${arch}: ${image.manifest.digest} (${tarball})`);
  }
  const top = writeIndex(layout, images, tag.slice(tag.lastIndexOf(':') + 1), imageLabels);
  return { tag, layout, digest: top.digest, images };
}

/** crane, built once from the pinned Go modules (scripts/go-tools). */
export function cranePath(): string {
  return run('bash', [join(root, 'scripts', 'go-tools', 'build.sh'), 'crane'], { stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** Pushes the layout (every architecture) to ref; returns the pushed digest reference. */
export function pushImage(layout: string, ref: string, extraArgs: string[] = []): string {
  return run(cranePath(), ['push', ...extraArgs, layout, ref]).trim();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string' },
      tag: { type: 'string' },
      out: { type: 'string' },
      push: { type: 'string' },
      refresh: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(
      `${readFileSync(new URL(import.meta.url), 'utf8')
        .split('\n')
        .slice(0, 14)
        .map((l) => l.replace(/^\/\/ ?/, ''))
        .join('\n')}\n`,
    );
    return;
  }
  const arches = (values.arch ?? hostArch()).split(',').map((a) => a.trim()) as Arch[];
  for (const arch of arches) if (!ARCHES.includes(arch)) throw new Error(`--arch ${arch}: expected ${ARCHES.join(' or ')}`);
  const built = await buildImage({ arches, tag: values.tag, out: values.out, refresh: values.refresh });
  const say = (line = '') => process.stdout.write(`${line}\n`);
  say(`image ${built.tag} (${built.digest})`);
  say(`  OCI layout: ${built.layout}`);
  for (const image of built.images) say(`  ${image.arch}: ${image.tarball}`);
  const tarball = built.images[0]!.tarball;
  say('');
  say('load it into a local cluster (then helm install ./chart, see README):');
  say(`  docker load -i ${tarball}`);
  say(`  kind load image-archive ${tarball}`);
  say(`  k3d image import ${tarball}`);
  say(`  minikube image load ${tarball}`);
  if (values.push) {
    say('');
    say(`pushing to ${values.push} with crane…`);
    say(`pushed ${pushImage(built.layout, values.push)}`);
  } else {
    say('or push it: npm run image -- --push REGISTRY/spiceai-operator:TAG');
  }
}

if (process.argv[1] && resolve(process.argv[1]) === new URL(import.meta.url).pathname) {
  main().catch((error) => {
    process.stderr.write(`npm run image: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
