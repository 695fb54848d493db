// The workloads handler as a standard fetch module (POST /reconcile, GET /healthz):
// `spiceai-operator serve workloads`, `deno serve functions/workloads/worker.ts` and
// Workers-style runtimes all run this file unchanged. The protocol is
// core/hook-protocol (README, "Hook protocol").
import { reconcileWorker } from '../../core/hook-protocol/reconcile-worker.ts';
import { workloadsHandler } from './index.ts';

export default reconcileWorker(workloadsHandler);
