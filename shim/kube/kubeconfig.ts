// Loads the kubeconfig the way kubectl does (--kubeconfig, $KUBECONFIG,
// ~/.kube/config, in-cluster), failing with a sentence instead of silently
// falling back to localhost:8080 as @kubernetes/client-node would.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
// The KubeConfig module alone: the package's index also loads every generated API client and model,
// which the operator does not use (shim/kube/client.ts speaks to the API server; scripts/bundle.mjs).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { KubeAccessError } from './access-error.ts';

export function loadKubeConfig(path?: string, context?: string): KubeConfig {
  const kc = new KubeConfig();
  const candidates = path ? [path] : (process.env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (path || candidates.length) {
    const missing = candidates.filter((p) => !existsSync(p));
    if (missing.length === candidates.length) {
      throw new KubeAccessError(`kubeconfig not found: ${missing.join(', ')}${path ? '' : ' (from $KUBECONFIG)'}`);
    }
    try {
      kc.loadFromFile(candidates.find((p) => existsSync(p))!);
    } catch (error) {
      throw new KubeAccessError(`kubeconfig ${candidates[0]} cannot be read: ${(error as Error).message.split('\n')[0]}`);
    }
  } else if (existsSync(join(homedir(), '.kube', 'config'))) {
    kc.loadFromFile(join(homedir(), '.kube', 'config'));
  } else if (process.env.KUBERNETES_SERVICE_HOST) {
    kc.loadFromCluster();
  } else {
    throw new KubeAccessError('no kubeconfig: pass --kubeconfig, set $KUBECONFIG, or create ~/.kube/config');
  }
  if (context) {
    if (!kc.getContextObject(context)) throw new KubeAccessError(`kubeconfig has no context named ${context}`);
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) throw new KubeAccessError('kubeconfig has no current cluster: set current-context');
  return kc;
}
