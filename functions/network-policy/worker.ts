// The network-policy handler as a standard fetch module (POST /reconcile, GET /healthz):
// `spiceai-operator serve network-policy`, `deno serve functions/network-policy/worker.ts` and
// Workers-style runtimes all run this file unchanged. The protocol is
// core/hook-protocol (README, "Hook protocol").
import { reconcileWorker } from '../../core/hook-protocol/reconcile-worker.ts';
import { networkPolicyHandler } from './index.ts';

export default reconcileWorker(networkPolicyHandler);
