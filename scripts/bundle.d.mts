import type { BuildOptions } from 'esbuild';

/** The esbuild options of npm run build's bundle (scripts/bundle.mjs). */
export declare const bundleOptions: BuildOptions;
