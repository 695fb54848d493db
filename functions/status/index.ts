// The operator's HTTP API (reference §7.4; README "Status API"), as a
// Web-standard fetch handler: GET /health, GET /ready, and the pod status of a
// SpicepodSet or (with ?kind=SpicepodCluster) of a SpicepodCluster. It reads
// the cluster only through the functions it is given, so the shim serves it
// from its caches and tests from plain objects.
// Where each part lives:
//   routes.ts  the HTTP routes and their answers
//   view.ts    a SpicepodSet's and a SpicepodCluster's pod-status views
//   probe.ts   spiced's /health and /v1/ready, probed with a timeout
export { createStatusHandler, DEFAULT_PROBE_TIMEOUT_MS, SPICEPOD_CLUSTER, SPICEPOD_SET, type StatusDependencies } from './routes.ts';
export type { ClusterStatus, PodStatus, SetStatus } from './view.ts';
export type { Health, Readiness } from './probe.ts';
