// `run --metrics-secure`: /metrics over HTTPS, and only for callers the API
// server authenticates (TokenReview) and authorizes to GET the non-resource
// URL /metrics (SubjectAccessReview), as controller-runtime's
// filters.WithAuthenticationAndAuthorization does for the kubebuilder scaffold
// (pkg/metrics/filters/filters.go). Answers are cached by token for a minute,
// so a Prometheus scraping every 15 s costs the API server two reviews a
// minute at most. The serving certificate is --metrics-cert-dir's
// tls.crt/tls.key, or a self-signed one made at start (Prometheus then scrapes
// with insecureSkipVerify, as the scaffold's ServiceMonitor does).
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCA, issueLeaf } from '../core/pki/index.ts';
import type { KObject, KubeClient } from './kube/client.ts';
import type { TlsCertificate } from './http.ts';

/** Why a request was refused (the body of a 401 or 403). */
export const NO_BEARER_TOKEN = 'a bearer token is required (Authorization: Bearer <token>)';
export const NOT_AUTHENTICATED = 'the API server did not authenticate the bearer token';
export const NOT_AUTHORIZED =
  "not allowed to get /metrics (grant the non-resource URL /metrics, verb get, e.g. with the chart's metrics-reader ClusterRole)";

export type MetricsVerdict = { status: 200 } | { status: 401 | 403; reason: string };

export interface MetricsAuthorizerOptions {
  client: Pick<KubeClient, 'create'>;
  /** How long an answer is reused for the same token. Default 60 s. */
  ttlMs?: number;
  now?: () => number;
}

/** Checks the Authorization header of a /metrics request against the API server. */
export function metricsAuthorizer(o: MetricsAuthorizerOptions): (authorization: string | null, path: string) => Promise<MetricsVerdict> {
  const ttl = o.ttlMs ?? 60_000;
  const now = o.now ?? Date.now;
  const cache = new Map<string, { at: number; verdict: MetricsVerdict }>();
  return async (authorization, path) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) return { status: 401, reason: NO_BEARER_TOKEN };
    const key = createHash('sha256').update(token).update('\0').update(path).digest('hex');
    const hit = cache.get(key);
    if (hit && now() - hit.at < ttl) return hit.verdict;
    const review = await o.client.create({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      metadata: { name: '' },
      spec: { token },
    } as unknown as KObject);
    const user = review.status as
      | { authenticated?: boolean; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } }
      | undefined;
    let verdict: MetricsVerdict;
    if (!user?.authenticated || !user.user?.username) verdict = { status: 401, reason: NOT_AUTHENTICATED };
    else {
      const access = await o.client.create({
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        metadata: { name: '' },
        spec: {
          user: user.user.username,
          uid: user.user.uid,
          groups: user.user.groups,
          extra: user.user.extra,
          nonResourceAttributes: { path, verb: 'get' },
        },
      } as unknown as KObject);
      verdict = (access.status as { allowed?: boolean } | undefined)?.allowed ? { status: 200 } : { status: 403, reason: NOT_AUTHORIZED };
    }
    if (cache.size > 1000) cache.clear();
    cache.set(key, { at: now(), verdict });
    return verdict;
  };
}

/** tls.crt and tls.key from `dir`, or a self-signed certificate for this host made now. */
export async function metricsCertificate(dir: string | undefined): Promise<TlsCertificate> {
  if (dir) return { certPem: readFileSync(join(dir, 'tls.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'tls.key'), 'utf8') };
  const ca = await createCA({ commonName: 'spiceai-operator-metrics-ca', validityDays: 3650 });
  const host = hostname().toLowerCase();
  const dnsNames = [...(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(host) && host !== 'localhost' ? [host] : []), 'localhost'];
  const leaf = await issueLeaf({ ca, commonName: 'spiceai-operator-metrics', dnsNames, ipAddresses: ['127.0.0.1'], validityDays: 3650 });
  return { certPem: leaf.certPem, keyPem: leaf.keyPem! };
}
