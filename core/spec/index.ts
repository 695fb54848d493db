export * from './kubernetes.ts';
export * from './spicepodset.ts';
export * from './spicepodcluster.ts';
export * from './normalize.ts';
export * from './crds.ts';
