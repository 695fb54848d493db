// npm run build: one file, dist/spiceai-operator.mjs, that `node` runs with no node_modules.
// Needs only the production dependencies (`npm ci --omit=dev`): the Dockerfile builds it that way.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * A plugin that bundles `contents` (CommonJS or ESM, resolved from the importer's directory) in place
 * of the module `path` matches, when the importing file matches `importer`.
 */
function replaceImport(name, { path, importer, contents }) {
  return {
    name,
    setup(build) {
      build.onResolve({ filter: path }, (args) =>
        importer.test(args.importer) ? { path: args.path, namespace: name, pluginData: args.resolveDir } : undefined,
      );
      build.onLoad({ filter: /.*/, namespace: name }, (args) => ({ loader: 'js', contents, resolveDir: args.pluginData }));
    },
  };
}

/**
 * client-node's KubeConfig module imports its generated API clients (gen/: every API group and
 * model, about a third of the package) for one method, makeApiClient, which the operator never
 * calls: it talks to the API server through shim/kube/client.ts. In the bundle that import is a
 * module whose exports throw, so the models are neither shipped nor loaded: 3 MiB less V8 heap and
 * 13 MiB less RSS at start on Node 24 (test/unit/bundle.test.ts checks both that they are gone and
 * that the bundle still reads a kubeconfig).
 */
export const withoutGeneratedApiClients = replaceImport('without-client-node-generated-api-clients', {
  path: /^\.\/gen\/index\.js$/,
  importer: /@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/,
  contents: `const absent = () => { throw new Error('KubeConfig.makeApiClient: the generated API clients are not in this bundle'); };
export const createConfiguration = absent;
export class ServerConfiguration { constructor() { absent(); } }`,
});

/**
 * node-fetch 2 (client-node's KubeConfig imports its Headers) requires whatwg-url at load and uses it
 * only where Node's url module has no URL (`Url.URL || whatwgUrl.URL`): never, on any Node the
 * operator runs on. whatwg-url loads tr46 and its IDNA mapping table: 0.3 MB of the bundle, and
 * about 1.9 MiB of V8 heap once evaluated. In the bundle node-fetch's whatwg-url is Node's URL.
 */
export const withoutWhatwgUrl = replaceImport('node-fetch-without-whatwg-url', {
  path: /^whatwg-url$/,
  importer: /[\\/]node-fetch[\\/]/,
  contents: 'module.exports = { URL: globalThis.URL };',
});

/**
 * zod's `z` namespace re-exports all 64 of its locales (z.locales), 0.27 MB of the bundle; zod
 * itself registers English (classic/schemas.js imports locales/en.js), and the operator sets no
 * other. In the bundle z.locales holds English only.
 */
export const zodEnglishOnly = replaceImport('zod-english-only', {
  path: /^\.\.\/locales\/index\.js$/,
  importer: /[\\/]zod[\\/]v4[\\/](core|classic)[\\/]/,
  contents: "export { default as en } from '../locales/en.js';",
});

const nodeBuiltins = new Set(builtinModules);

/**
 * Node's built-in modules by require(), not by ESM import. An ESM import of a built-in builds its
 * ESM facade, which reads every export once, lazy getters included: `import ... from 'node:http'`
 * loads undici (http's WebSocket, CloseEvent and MessageEvent), and with it http2, assert, readline
 * and web streams, which nothing here uses unless a Request or fetch is made (the status API, OTLP,
 * hooks; the probes and /metrics build none). On Node 24 that is 14 MiB of RSS in a process that
 * does nothing else, 3-4 MiB of the operator's with 1,000 SpicepodSets cached (bench/scale.ts).
 * test/unit/bundle.test.ts checks that loading the bundle leaves them out, and
 * test/integration/footprint.test.ts that `run` does.
 *
 * A module object is handed on as a view, each export a getter that reads it from the module when
 * used. esbuild's ESM interop (__toESM) reads the property descriptor of every export, and on
 * Node 24 that materializes node:util's lazy exports (diff, parseArgs, setTraceSigInt), which
 * load worker_threads, the worker's messaging and assert's diff: 14 modules more than the operator
 * loads otherwise (0.5 MiB of RSS at start). A module that is a function (events' EventEmitter) is
 * handed on as is.
 */
export const builtinsByRequire = {
  name: 'node-builtins-by-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_0-9/]+$/ }, (args) => {
      if (args.kind !== 'import-statement' && args.kind !== 'dynamic-import') return undefined;
      const id = args.path.replace(/^node:/, '');
      return nodeBuiltins.has(id) ? { path: id, namespace: 'node-builtin' } : undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => ({
      loader: 'js',
      contents: `const m = require(${JSON.stringify(`node:${args.path}`)});
if (typeof m === 'function') module.exports = m;
else {
  const view = {};
  for (const key of Object.getOwnPropertyNames(m)) Object.defineProperty(view, key, { get: () => m[key], enumerable: true });
  module.exports = view;
}`,
    }));
  },
};

/** @type {import('esbuild').BuildOptions} */
export const bundleOptions = {
  absWorkingDir: root,
  entryPoints: ['shim/cli/main.ts'],
  bundle: true,
  platform: 'node',
  // The oldest Node the CLI supports (package.json engines); the image runs a newer LTS.
  target: 'node20',
  format: 'esm',
  outfile: 'dist/spiceai-operator.mjs',
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  // Smaller source is less memory: V8 keeps the whole file as a string, and a file with any
  // non-ASCII character (comments included) as a two-byte string. keepNames keeps stack traces readable.
  minify: true,
  keepNames: true,
  charset: 'ascii',
  sourcemap: false,
  legalComments: 'none',
  plugins: [withoutGeneratedApiClients, withoutWhatwgUrl, zodEnglishOnly, builtinsByRequire],
  logLevel: 'warning',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build(bundleOptions);
  console.log('wrote dist/spiceai-operator.mjs');
}
