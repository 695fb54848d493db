// The cluster handler as a standard fetch module (POST /reconcile, GET /healthz):
// `spiceai-operator serve cluster`, `deno serve functions/cluster/worker.ts` and
// Workers-style runtimes all run this file unchanged. The protocol is
// core/hook-protocol (README, "Hook protocol").
import { reconcileWorker } from '../../core/hook-protocol/reconcile-worker.ts';
import { clusterHandler } from './index.ts';

export default reconcileWorker(clusterHandler);
