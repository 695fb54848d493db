// The pod-monitor handler as a standard fetch module (POST /reconcile, GET /healthz):
// `spiceai-operator serve pod-monitor`, `deno serve functions/pod-monitor/worker.ts` and
// Workers-style runtimes all run this file unchanged. The protocol is
// core/hook-protocol (README, "Hook protocol").
import { reconcileWorker } from '../../core/hook-protocol/reconcile-worker.ts';
import { podMonitorHandler } from './index.ts';

export default reconcileWorker(podMonitorHandler);
