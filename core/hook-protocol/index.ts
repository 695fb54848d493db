// The hook protocol: how the operator and a handler served over HTTP talk (README, "Hook protocol").
export * from './version.ts';
export * from './reasons.ts';
export * from './schemas.ts';
export * from './wire.ts';
export * from './read-body.ts';
export * from './reconcile-worker.ts';
export * from './parse-answer.ts';
