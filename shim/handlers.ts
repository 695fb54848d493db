// The handlers `run` can start, by name (`--handlers`).
import type { Handler } from '../core/handler.ts';
import { clusterHandler } from '../functions/cluster/index.ts';
import { networkPolicyHandler } from '../functions/network-policy/index.ts';
import { pkiHandler } from '../functions/pki/index.ts';
import { workloadsHandler } from '../functions/workloads/index.ts';
import type { HandlerName } from './handler-names.ts';

export const HANDLERS = {
  workloads: workloadsHandler,
  'network-policy': networkPolicyHandler,
  cluster: clusterHandler,
  pki: pkiHandler,
} satisfies Record<HandlerName, Handler>;
