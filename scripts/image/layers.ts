// The two layers of the image, as tar entries:
// - runtime: what distroless's nodejs image gives the Dockerfile, rebuilt from
//   what the registries here give: the Node LTS binary (npm) at /nodejs/bin/node,
//   exactly the shared libraries it links and their own dependencies (Debian's
//   packages, found by reading the ELF files), Debian's /etc/os-release and a
//   status.d entry per package (so image scanners see the versions), the
//   copyright files, and the nonroot user (65532) of distroless.
// - app: /app/spiceai-operator.mjs, the bundle.
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { DebianPackage } from './debian.ts';
import { readElf } from './elf.ts';
import type { NodeRuntime } from './node-runtime.ts';
import { BUNDLE_PATH, NODE_PATH, USER_ID, WORKDIR, type Arch } from './spec.ts';
import { withParents, type TarEntry } from './tar.ts';

const TRIPLET: Record<Arch, string> = { amd64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const ELF_MACHINE: Record<Arch, string> = { amd64: 'x86-64', arm64: 'aarch64' };
const encoder = new TextEncoder();
const text = (path: string, content: string, mode = 0o644): TarEntry => ({ path, type: 'file', mode, content: encoder.encode(content) });
const strip = (path: string) => path.replace(/^\/+/, '');

// distroless's /etc/passwd and /etc/group (base/base.bzl): root, nobody, nonroot.
const PASSWD = `root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:${USER_ID}:${USER_ID}:nonroot:/home/nonroot:/sbin/nologin\n`;
const GROUP = `root:x:0:\nnobody:x:65534:\nnonroot:x:${USER_ID}:\n`;
const NSSWITCH =
  'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n';

export interface RuntimeLayer {
  entries: TarEntry[];
  /** Libraries in the layer, image paths. */
  libraries: string[];
}

/** Where `path` (an image path) is in one of the extracted packages. */
function locate(packages: DebianPackage[], path: string): { pkg: DebianPackage; host: string } | undefined {
  for (const pkg of packages) {
    const host = posix.join(pkg.root, path);
    try {
      lstatSync(host);
      return { pkg, host };
    } catch {
      // not in this package
    }
  }
  return undefined;
}

export function runtimeLayer(arch: Arch, node: NodeRuntime, packages: DebianPackage[]): RuntimeLayer {
  const entries = new Map<string, TarEntry>();
  const add = (entry: TarEntry) => entries.set(entry.path, entry);
  const fromPackage = (imagePath: string): string => {
    const found = locate(packages, imagePath);
    if (!found) throw new Error(`${imagePath} is in none of the Debian packages ${packages.map((p) => p.name).join(', ')}`);
    const st = lstatSync(found.host);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(found.host);
      add({ path: imagePath, type: 'symlink', mode: 0o777, linkname: target });
      return fromPackage(strip(target.startsWith('/') ? target : posix.join(posix.dirname(imagePath), target)));
    }
    add({ path: imagePath, type: 'file', mode: st.mode & 0o777, content: readFileSync(found.host) });
    return imagePath;
  };

  const nodeElf = readElf(node.node);
  if (nodeElf.machine !== ELF_MACHINE[arch]) throw new Error(`${node.node} is ${nodeElf.machine}, not ${ELF_MACHINE[arch]}`);
  add({ path: strip(NODE_PATH), type: 'file', mode: 0o755, content: readFileSync(node.node) });
  add({ path: 'nodejs/LICENSE', type: 'file', mode: 0o644, content: readFileSync(node.license) });

  // The program interpreter and every library in the DT_NEEDED closure, searched where Debian's
  // ld.so looks (its built-in multiarch directories; there is no ld.so.cache in the image).
  const searchDirs = [`lib/${TRIPLET[arch]}`, `usr/lib/${TRIPLET[arch]}`];
  const libraries: string[] = [];
  const done = new Set<string>();
  const pending: { name: string; from: string }[] = [];
  if (!nodeElf.interpreter) throw new Error(`${node.node} has no program interpreter`);
  pending.push(...nodeElf.needed.map((name) => ({ name, from: NODE_PATH })));
  libraries.push(fromPackage(strip(nodeElf.interpreter)));
  done.add(posix.basename(nodeElf.interpreter));
  while (pending.length) {
    const { name, from } = pending.shift()!;
    if (done.has(name)) continue;
    done.add(name);
    const dir = searchDirs.find((d) => locate(packages, `${d}/${name}`));
    if (!dir) throw new Error(`${from} needs ${name}, which none of the Debian packages has in ${searchDirs.join(' or ')}`);
    const file = fromPackage(`${dir}/${name}`);
    libraries.push(file);
    const elf = readElf(posix.join(locate(packages, file)!.host));
    if (elf.machine !== ELF_MACHINE[arch]) throw new Error(`${file} is ${elf.machine}, not ${ELF_MACHINE[arch]}`);
    pending.push(...elf.needed.map((n) => ({ name: n, from: file })));
  }

  for (const pkg of packages) {
    // Licences: usr/share/doc/NAME/copyright, where NAME may be a link to another package's
    // directory (libgcc-s1 and libstdc++6 link to gcc-12-base's).
    const doc = `usr/share/doc/${pkg.name}`;
    const found = locate([pkg], doc);
    if (found && lstatSync(found.host).isSymbolicLink()) {
      const target = readlinkSync(found.host);
      add({ path: doc, type: 'symlink', mode: 0o777, linkname: target });
      fromPackage(posix.join('usr/share/doc', target, 'copyright'));
    } else if (found) {
      fromPackage(`${doc}/copyright`);
    }
    add(text(`var/lib/dpkg/status.d/${pkg.name}`, pkg.control.endsWith('\n') ? pkg.control : `${pkg.control}\n`));
  }
  fromPackage('etc/os-release');
  add(text('etc/passwd', PASSWD));
  add(text('etc/group', GROUP));
  add(text('etc/nsswitch.conf', NSSWITCH));
  add({ path: 'tmp', type: 'dir', mode: 0o1777 });
  add({ path: 'root', type: 'dir', mode: 0o700 });
  add({ path: 'home', type: 'dir', mode: 0o755 });
  add({ path: 'home/nonroot', type: 'dir', mode: 0o700, uid: USER_ID, gid: USER_ID });
  return { entries: withParents([...entries.values()]), libraries };
}

export function appLayer(bundleFile: string): TarEntry[] {
  statSync(bundleFile);
  return withParents([
    { path: strip(WORKDIR), type: 'dir', mode: 0o755 },
    { path: strip(BUNDLE_PATH), type: 'file', mode: 0o644, content: readFileSync(bundleFile) },
  ]);
}
