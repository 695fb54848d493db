// The pki handler as a standard fetch module (POST /reconcile, GET /healthz):
// `spiceai-operator serve pki`, `deno serve functions/pki/worker.ts` and
// Workers-style runtimes all run this file unchanged. The protocol is
// core/hook-protocol (README, "Hook protocol").
import { reconcileWorker } from '../../core/hook-protocol/reconcile-worker.ts';
import { pkiHandler } from './index.ts';

export default reconcileWorker(pkiHandler);
