// Reads what the Dockerfile's final image is (its runtime stage), so tests can
// compare it with the image `npm run image` assembles. Knows the instructions
// this Dockerfile uses, in their JSON/space forms; anything else is an error.
import { readFileSync } from 'node:fs';

export interface DockerfileImage {
  buildBase: string;
  base: string;
  user: string;
  workdir: string;
  entrypoint: string[];
  cmd: string[];
  exposed: number[];
  /** ENV of the runtime stage. */
  env: Record<string, string>;
  /** Labels with ARG defaults substituted (build args not given). */
  labels: Record<string, string>;
  /** Files copied into the image: destination paths. */
  files: string[];
  /** The build stage's RUN lines. */
  buildRuns: string[];
}

const root = new URL('../../', import.meta.url).pathname;

/** Instructions with line continuations joined and comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const out: { op: string; args: string }[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!current && (line === '' || line.startsWith('#'))) continue;
    current += (current ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(current);
    if (!m) throw new Error(`Dockerfile: cannot read ${current}`);
    out.push({ op: m[1]!.toUpperCase(), args: m[2]! });
    current = '';
  }
  return out;
}

/** KEY="value" pairs of a LABEL (or ARG) instruction. */
function pairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of args.matchAll(/([\w.-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g))
    out[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return out;
}

export function readDockerfile(path = `${root}Dockerfile`): DockerfileImage {
  const all = instructions(readFileSync(path, 'utf8'));
  // ARGs before the first FROM are only visible in a stage that declares them again.
  const globals: Record<string, string> = {};
  const args: Record<string, string> = {};
  const stages: { from: string; steps: { op: string; args: string }[] }[] = [];
  for (const step of all) {
    if (step.op === 'FROM') stages.push({ from: step.args.split(/\s+/)[0]!, steps: [] });
    else if (!stages.length && step.op === 'ARG') Object.assign(globals, pairs(step.args));
    else stages.at(-1)!.steps.push(step);
  }
  if (stages.length !== 2) throw new Error(`Dockerfile: expected a build stage and a runtime stage, found ${stages.length}`);
  const [build, runtime] = stages as [(typeof stages)[0], (typeof stages)[0]];
  const image: DockerfileImage = {
    buildBase: build.from,
    base: runtime.from,
    user: '',
    workdir: '/',
    entrypoint: [],
    cmd: [],
    exposed: [],
    env: {},
    labels: {},
    files: [],
    buildRuns: build.steps.filter((s) => s.op === 'RUN').map((s) => s.args),
  };
  const substitute = (text: string) => text.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
  for (const { op, args: a } of runtime.steps) {
    switch (op) {
      case 'ARG': {
        const [name, value] = a.split('=') as [string, string | undefined];
        args[name] = value ?? globals[name] ?? '';
        break;
      }
      case 'LABEL':
        for (const [k, v] of Object.entries(pairs(a))) image.labels[k] = substitute(v);
        break;
      case 'ENV':
        Object.assign(image.env, pairs(a));
        break;
      case 'WORKDIR':
        image.workdir = a;
        break;
      case 'USER':
        image.user = a;
        break;
      case 'EXPOSE':
        image.exposed = a.split(/\s+/).map((p) => Number(p.replace(/\/tcp$/, '')));
        break;
      case 'ENTRYPOINT':
        image.entrypoint = JSON.parse(a);
        break;
      case 'CMD':
        image.cmd = JSON.parse(a);
        break;
      case 'COPY': {
        const parts = a.split(/\s+/).filter((p) => !p.startsWith('--'));
        image.files.push(parts.at(-1)!);
        break;
      }
      default:
        throw new Error(`Dockerfile: the runtime stage has ${op}, which this reader (and test) does not know`);
    }
  }
  return image;
}
