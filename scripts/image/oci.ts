// OCI image layout (image-spec v1.1: oci-layout, index.json, blobs/sha256/*)
// and the tarball `docker load` reads, written from tar entries. The tarball
// is what `docker save` writes since Docker 25: the OCI layout plus Docker's
// manifest.json, so `docker load`, `kind load image-archive`, `k3d image
// import`, `minikube image load` and `crane push` all read it.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { createGzip } from 'node:zlib';
import { tarArchive, tarChunks, withParents, type TarEntry } from './tar.ts';
import type { Arch } from './spec.ts';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface Layer extends Descriptor {
  /** sha256 of the uncompressed tar (the config's rootfs.diff_ids). */
  diffId: string;
}

const sha256 = (data: Uint8Array | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const blobPath = (blobs: string, digest: string) => join(blobs, digest.replace(':', '/'));

/** Writes bytes as a blob of the layout; returns its descriptor. */
export function writeBlob(layout: string, mediaType: string, data: Uint8Array | string): Descriptor {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const digest = sha256(bytes);
  const path = blobPath(join(layout, 'blobs'), digest);
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  if (!existsSync(path)) writeFileSync(path, bytes);
  return { mediaType, digest, size: bytes.length };
}

/** Compresses the tar of entries into a blob of the layout (streamed: one layer holds a 120 MB file). */
export async function writeLayer(layout: string, entries: TarEntry[], mtime: number): Promise<Layer> {
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const tmp = join(layout, 'blobs', `.layer-${process.pid}-${Date.now()}`);
  const diff = createHash('sha256');
  const compressed = createHash('sha256');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      compressed.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  const chunks = tarChunks(entries, mtime);
  const source = Readable.from(
    (function* () {
      for (const chunk of chunks) {
        diff.update(chunk);
        yield chunk;
      }
    })(),
  );
  // gzip's header carries no time or name here (zlib writes mtime 0), so the blob is reproducible.
  await pipeline(source, createGzip({ level: 6 }), count, createWriteStream(tmp));
  const digest = `sha256:${compressed.digest('hex')}`;
  renameSync(tmp, blobPath(join(layout, 'blobs'), digest));
  return { mediaType: MEDIA.layer, digest, size, diffId: `sha256:${diff.digest('hex')}` };
}

/** Copies a blob from one layout to another (e.g. a cached layer into dist/). */
export async function copyBlob(from: string, to: string, digest: string): Promise<void> {
  const target = blobPath(join(to, 'blobs'), digest);
  if (existsSync(target)) return;
  mkdirSync(join(to, 'blobs', 'sha256'), { recursive: true });
  await pipeline(createReadStream(blobPath(join(from, 'blobs'), digest)), createWriteStream(`${target}.tmp`));
  renameSync(`${target}.tmp`, target);
}

export interface ImageConfig {
  created: string;
  user: string;
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  ports: number[];
  labels: Record<string, string>;
  history: { created_by: string; comment?: string }[];
}

export interface PlatformImage {
  arch: Arch;
  manifest: Descriptor;
  config: Descriptor;
  layers: Layer[];
}

/** Writes the config and manifest of one platform's image; returns its descriptors. */
export function writeImage(layout: string, arch: Arch, layers: Layer[], c: ImageConfig): PlatformImage {
  const platform = { architecture: arch, os: 'linux', ...(arch === 'arm64' ? { variant: 'v8' } : {}) };
  const config = writeBlob(
    layout,
    MEDIA.config,
    JSON.stringify({
      created: c.created,
      ...platform,
      config: {
        User: c.user,
        ExposedPorts: Object.fromEntries(c.ports.map((p) => [`${p}/tcp`, {}])),
        Env: c.env,
        Entrypoint: c.entrypoint,
        Cmd: c.cmd,
        WorkingDir: c.workdir,
        Labels: c.labels,
      },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: c.history.map((h) => ({ created: c.created, ...h })),
    }),
  );
  const manifest = writeBlob(
    layout,
    MEDIA.manifest,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
      annotations: c.labels,
    }),
  );
  return { arch, manifest: { ...manifest, platform }, config, layers };
}

/**
 * index.json of the layout: the image under `tag` (org.opencontainers.image.ref.name);
 * several platforms become one image index. Returns the descriptor tagged.
 */
export function writeIndex(layout: string, images: PlatformImage[], tag: string, annotations: Record<string, string> = {}): Descriptor {
  let top: Descriptor;
  if (images.length === 1) {
    top = images[0]!.manifest;
  } else {
    const index = writeBlob(
      layout,
      MEDIA.index,
      JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: images.map((i) => i.manifest), annotations }),
    );
    top = index;
  }
  const tagged = { ...top, annotations: { ...annotations, 'org.opencontainers.image.ref.name': tag } };
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.index, manifests: [tagged] }));
  return tagged;
}

/** Docker's name for an image reference without registry: docker.io/library/NAME:TAG. */
export function fullReference(ref: string): string {
  const first = ref.split('/')[0]!;
  const hasRegistry = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/** The `docker load`-able tarball of one platform's image from the layout, tagged `ref` (NAME:TAG). */
export function writeDockerArchive(layout: string, image: PlatformImage, ref: string, file: string): void {
  const blob = (d: Descriptor): TarEntry => ({
    path: `blobs/${d.digest.replace(':', '/')}`,
    type: 'file',
    mode: 0o644,
    content: readFileSync(blobPath(join(layout, 'blobs'), d.digest)),
  });
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  const entries: TarEntry[] = [
    { path: 'oci-layout', type: 'file', mode: 0o644, content: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    {
      path: 'index.json',
      type: 'file',
      mode: 0o644,
      content: Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.index,
          manifests: [
            {
              ...image.manifest,
              annotations: { 'io.containerd.image.name': fullReference(ref), 'org.opencontainers.image.ref.name': tag },
            },
          ],
        }),
      ),
    },
    {
      path: 'manifest.json',
      type: 'file',
      mode: 0o644,
      content: Buffer.from(
        JSON.stringify([
          {
            Config: `blobs/${image.config.digest.replace(':', '/')}`,
            RepoTags: [ref],
            Layers: image.layers.map((l) => `blobs/${l.digest.replace(':', '/')}`),
          },
        ]),
      ),
    },
    blob(image.manifest),
    blob(image.config),
    ...image.layers.map(blob),
  ];
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, tarArchive(withParents(entries), 0));
  renameSync(tmp, file);
}

export function resetDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}
