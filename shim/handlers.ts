// The handlers `run` can start, by name (`--handlers`).
import type { Handler } from '../core/handler.ts';
import { workloadsHandler } from '../functions/workloads/index.ts';

export const HANDLERS: Record<string, Handler> = {
  workloads: workloadsHandler,
};
