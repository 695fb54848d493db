// What the operator image is, whoever builds it: `npm run image` (assembled
// here, no Docker engine) and the Dockerfile (for users with Docker) must
// both give this. test/unit/image-spec.test.ts holds the Dockerfile to it,
// test/integration/image.test.ts the assembled image.
import { readFileSync } from 'node:fs';

const root = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  name: string;
  version: string;
  description: string;
  license: string;
};

export interface RuntimePins {
  node: { version: string; packages: Record<Arch, { name: string; integrity: string }> };
  debian: {
    release: string;
    suites: string[];
    securitySuite: string;
    mirror: string;
    securityMirror: string;
    keyring: string;
    packages: string[];
  };
  dockerfileBase: string;
}

export type Arch = 'amd64' | 'arm64';
export const ARCHES: Arch[] = ['amd64', 'arm64'];

export const RUNTIME: RuntimePins = JSON.parse(readFileSync(new URL('./runtime.json', import.meta.url), 'utf8'));

/** The non-root user of distroless images ("nonroot"); the chart's securityContext runs the same. */
export const USER_ID = 65532;
export const NODE_PATH = '/nodejs/bin/node';
export const BUNDLE_PATH = '/app/spiceai-operator.mjs';
export const WORKDIR = '/app';
/**
 * The flags the image gives node. --optimize-for-size: V8 grows its heap less eagerly, and holds its
 * young generation at 1 MiB (V8 implies --max-semi-space-size=1; a larger value is overridden), so a
 * busy process collects often. Without it, 1,000 SpicepodSets converge with 13–23% less CPU and the
 * injector answers about 30% more admissions a second, for 10–14 MiB more settled RSS: kept, since
 * memory limits are what evict operators. Measured again with 1,000 sets (bench/scale.ts, ours alone,
 * its share of the machine's CPU while converging, which the machine's speed from run to run moves
 * less than seconds): these flags 14.0–15.0% (6 runs), 90–94 MiB settled; without
 * --optimize-for-size 12.0%, 109 MiB; without it and with --max-semi-space-size=1 or 2, 9.1–13.0%,
 * 101 MiB; --memory-saver-mode (V8's frugal heap growth without the young generation held at 1 MiB)
 * with --max-semi-space-size=2, 12.5–13.7%, 96–98 MiB, and with =1, 13.5–13.8%, 91–92 MiB. Only a
 * larger young generation saves CPU, and only for memory; Node 20 has no --memory-saver-mode.
 * --max-opt=2: V8's mid-tier compiler (Maglev) is its
 * highest, so its top tier (Turbofan) never runs: neither its compiled code and working memory nor
 * the pages of the node binary that hold it are resident.
 * With 1,000 SpicepodSets cached, 106 MiB settled RSS instead of 118, for 5% more CPU while
 * converging them; the injector's admission decision takes 30–34 µs instead of 27 (bench/scale.ts,
 * README "Helm chart"). Sparkplug or the interpreter alone (--max-opt=1, 0) saved 2–6 MiB more and
 * cost 20% more CPU and twice the admission time.
 */
export const NODE_FLAGS = ['--optimize-for-size', '--max-opt=2'];
/** node, its flags, the bundle: the benches and the bundle test start node with NODE_FLAGS too. */
export const ENTRYPOINT = [NODE_PATH, ...NODE_FLAGS, BUNDLE_PATH];
/**
 * glibc malloc settings the image runs node with (both builds are glibc: distroless Debian). Node's
 * own allocations (network buffers, TLS, V8's off-heap data) go through malloc, and by default glibc
 * keeps what a busy start-up freed: one arena per thread that allocated (up to 8 per core), and a
 * threshold for mmap'ed blocks that rises to 32 MiB after the first large free, after which large
 * buffers come from the heap and stay there. Two arenas, and both thresholds pinned at glibc's
 * initial 128 KiB (the heap's top trimmed), took the settled RSS with 1,000 SpicepodSets cached
 * from 135 to 122 MiB (bench/scale.ts; README, "Helm chart").
 * The mmap threshold is now lower: V8's zone segment as malloc sees it, 32 KiB and malloc's 16-byte
 * header (32,768 alone gives the same). V8's parser and compilers take their working memory in
 * zone segments of up to 32 KiB (v8 src/zone/zone.h, kMaximumSegmentSize), malloc'ed and freed
 * when a compilation ends (zone-segment.h). Compiling the bundle at start (2.2 MB when measured)
 * left 11-19 MiB of them freed in malloc's heap, which free() never returns while anything lives
 * above them; from this size on each segment is mmap'ed and unmapped on free. The bundle's start
 * holds 22 MiB of anonymous memory instead of 36, and the operator with 1,000 SpicepodSets cached
 * settles at 99 MiB RSS instead of 108 (83 instead of 87-88 with 100). The cost is CPU while V8
 * compiles most, in the first seconds: an mmap, its page faults and an munmap per segment. With 100
 * SpicepodSets, about 1,200 segments and 10,800 more page faults (0.04 s of system time), and
 * 1.63 s of CPU until quiet instead of 1.51 (means of five runs each; single runs spread by
 * ±0.2 s); with 1,000, no difference measured (bench/scale.ts; test/unit/bundle.test.ts checks the
 * heap after start). Node's 64 KiB socket read buffers are mmap'ed too: the injector at saturation
 * answered 0.34 and 0.41 of a bare server's rate, against 0.33 and 0.36 with 128 KiB (bench/injection.ts).
 */
export const ENV: Record<string, string> = {
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '32784',
  MALLOC_TRIM_THRESHOLD_: '131072',
};
/** An environment as the OCI config and `env` write it: NAME=value. */
export const envAssignments = (env: Record<string, string>): string[] => Object.entries(env).map(([k, v]) => `${k}=${v}`);
export const CMD = ['run'];
/** http (status API, /health, /ready), metrics, webhook. */
export const PORTS = [8090, 9090, 8443];
export const IMAGE_NAME = pkg.name;
export const VERSION = pkg.version;

/** OCI annotation keys set as labels on both builds (version and revision come from the build). */
export function labels(version: string, revision = 'unknown'): Record<string, string> {
  return {
    'org.opencontainers.image.title': pkg.name,
    'org.opencontainers.image.description': pkg.description,
    'org.opencontainers.image.licenses': pkg.license,
    'org.opencontainers.image.version': version,
    'org.opencontainers.image.revision': revision,
  };
}
