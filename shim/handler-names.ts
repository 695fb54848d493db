// Names of the handlers `run --handlers` accepts. Kept apart from the
// handlers themselves so the CLI can print and check them without loading them.
export const HANDLER_NAMES = ['workloads', 'network-policy', 'cluster', 'pki', 'pod-monitor'] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];
