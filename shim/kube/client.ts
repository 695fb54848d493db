// A small JSON REST client for the Kubernetes API: get/list/watch, server-side
// apply, merge patch, create/update/delete. TLS and credentials come from the
// KubeConfig (client certs, bearer tokens, token files, exec plugins), applied
// again at most once a second (and at once after a 401) so rotated credentials
// are picked up; connections are pooled in one keep-alive agent per distinct
// TLS identity.
//
// Errors never carry request bodies (transport.ts); watch streams are read
// by watch-stream.ts.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../core/handler.ts';
import { KubeAccessError } from './access-error.ts';
import { objectPath, toResourceRef, type ResourceLike, type ResourceRef } from './resources.ts';
import { type ApiError, apiErrorFrom, isApiError, readBody, transportError, type Verb } from './transport.ts';
import { streamWatch, watchQuery } from './watch-stream.ts';

export { ApiError, isApiError, type Verb, written } from './transport.ts';

// The object shape is core's: handlers and the shim share one definition.
export type { OwnerReference } from '../../core/handler.ts';
export type KObject = KubeObject;

/** Reported after every request; code is the HTTP status, or 0 when no response arrived. */
export interface RequestInfo {
  verb: Verb;
  kind: string;
  /** HTTP status code; 0 when no answer came. */
  code: number;
  seconds: number;
  /** The HTTP method, and the API server's host:port (client-go's rest_client_requests_total labels). */
  method: string;
  host: string;
}

export interface KubeClientOptions {
  /** Called after every request (for a watch: when the response headers arrive, or it fails before). */
  onRequest?: (info: RequestInfo) => void;
  /** Deadline for one non-watch request. Default 30 s. */
  timeoutMs?: number;
  /** fieldValidation for create/update/apply/patch. Default 'Strict'. */
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  userAgent?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
  /** Page size; pages are followed internally until the list is complete. */
  limit?: number;
  continue?: string;
  /** Aborts the list (it then rejects with an AbortError). */
  signal?: AbortSignal;
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  timeoutSeconds: number;
  allowWatchBookmarks: true;
  /** Called once the server has accepted the watch (200 and headers received). */
  onConnected?: () => void;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  // biome-ignore lint/suspicious/noExplicitAny: a Kubernetes object of any kind, as the API server sent it
  object: any;
}

/**
 * How long the credentials the KubeConfig applied are reused. Applying them per request (client-node
 * builds an https.Agent each time and may read files) was a tenth of the client's CPU under load;
 * client-node itself re-reads a token file only once a minute.
 */
const CREDENTIALS_TTL_MS = 1000;

// biome-ignore lint/suspicious/noExplicitAny: a decoded JSON body, narrowed by each caller
type Response = { status: number; headers: http.IncomingHttpHeaders; body: any };
/** What becomes of a successful answer's body: decoded from JSON, or read off the connection and dropped (body undefined). */
type Answer = 'decoded' | 'unread';

export class KubeClient {
  readonly server: string;
  private readonly kc: KubeConfig;
  private readonly base: URL;
  private readonly options: Required<Pick<KubeClientOptions, 'timeoutMs' | 'fieldValidation' | 'userAgent'>> & KubeClientOptions;
  private agent?: { key: string; agent: http.Agent };
  /** Request options carrying the current credentials (auth headers and the agent holding the TLS material), and when they were applied. */
  private credentials?: { at: number; opts: https.RequestOptions };

  constructor(kc: KubeConfig, options: KubeClientOptions = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.kc = kc;
    this.server = cluster.server;
    this.base = new URL(cluster.server);
    this.options = { timeoutMs: 30_000, fieldValidation: 'Strict', userAgent: 'spiceai-operator', ...options };
  }

  static fromKubeConfig(kc: KubeConfig, options?: KubeClientOptions): KubeClient {
    return new KubeClient(kc, options);
  }

  /** Closes pooled connections. In-flight requests fail. */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
    this.credentials = undefined;
  }

  /** The object, or undefined when the API server answers 404. */
  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const ref = toResourceRef({ apiVersion, kind });
    try {
      const res = await this.request('get', ref, 'GET', objectPath(ref, namespace, name));
      return withType(res.body, ref);
    } catch (error) {
      if (isApiError(error, 404)) return undefined;
      throw error;
    }
  }

  /** Lists the collection; with `limit`, follows `continue` until all pages are read. */
  async list(resource: ResourceLike, options: ListOptions = {}): Promise<ListResult> {
    const ref = toResourceRef(resource);
    const path = objectPath(ref, options.namespace);
    const items: KObject[] = [];
    let token = options.continue;
    let resourceVersion = '';
    for (;;) {
      const query: Record<string, string | undefined> = {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit ? String(options.limit) : undefined,
        continue: token,
        // A continue token carries its own resourceVersion; sending both is refused.
        resourceVersion: token ? undefined : options.resourceVersion,
        resourceVersionMatch: token ? undefined : options.resourceVersionMatch,
      };
      let res: Response;
      try {
        res = await this.request('list', ref, 'GET', path, query, undefined, undefined, options.signal);
      } catch (error) {
        // The snapshot behind a continue token was compacted: start over with
        // one unpaginated list rather than mixing two snapshots (client-go's pager does the same).
        if (isApiError(error, 410) && token && token !== options.continue) {
          return this.list(ref, { ...options, limit: undefined, continue: undefined });
        }
        throw error;
      }
      for (const item of (res.body?.items ?? []) as KObject[]) items.push(withType(item, ref));
      resourceVersion = res.body?.metadata?.resourceVersion ?? resourceVersion;
      token = res.body?.metadata?.continue || undefined;
      if (!token || !options.limit) break;
    }
    return { items, resourceVersion };
  }

  /**
   * Streams watch events to onEvent (synchronously, in order). Resolves when
   * the server ends the stream or `signal` aborts; rejects on transport errors,
   * on a non-2xx answer, and after an ERROR event (with an ApiError carrying
   * the Status code, e.g. 410 when the resourceVersion is too old). An
   * exception thrown by onEvent ends the watch and rejects with it.
   */
  async watch(resource: ResourceLike, options: WatchOptions, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const ref = toResourceRef(resource);
    const path = objectPath(ref, options.namespace);
    const started = performance.now();
    let reported = false;
    const report = (code: number) => {
      if (reported) return;
      reported = true;
      this.observe('watch', 'GET', ref, code, started);
    };
    let req: http.ClientRequest;
    try {
      req = await this.open('GET', path, watchQuery(options));
    } catch (error) {
      report(0);
      throw error;
    }
    return streamWatch(req, {
      ref,
      path,
      timeoutSeconds: options.timeoutSeconds,
      signal,
      onConnected: options.onConnected,
      onStatus: report,
      apiError: (status, headers, text) => this.apiError('watch', path, status, headers, text),
      onEvent: (event) => {
        if (event.type !== 'BOOKMARK' && event.type !== 'ERROR') withType(event.object, ref);
        onEvent(event);
      },
    });
  }

  /** Server-side apply (force defaults to true): the object as the field manager's full intent. */
  async apply(obj: KObject, options: { fieldManager: string; force?: boolean; dryRun?: boolean }): Promise<KObject> {
    return (await this.applyTo(obj, undefined, options, 'decoded'))!;
  }

  /**
   * apply, for a caller that never reads the object the server answers with: the answer (the whole
   * object, managedFields and status included) is read off the connection but not decoded. A refusal
   * is decoded and thrown as apply's is.
   */
  async applyUnread(obj: KObject, options: { fieldManager: string; force?: boolean }): Promise<void> {
    await this.applyTo(obj, undefined, options, 'unread');
  }

  /** Server-side apply to the status subresource. */
  async applyStatus(obj: KObject, options: { fieldManager: string; force?: boolean; dryRun?: boolean }): Promise<KObject> {
    return (await this.applyTo(obj, 'status', options, 'decoded'))!;
  }

  private async applyTo(
    obj: KObject,
    subresource: string | undefined,
    options: { fieldManager: string; force?: boolean; dryRun?: boolean },
    answer: Answer,
  ): Promise<KObject | undefined> {
    const ref = toResourceRef(obj);
    const res = await this.request(
      'apply',
      ref,
      'PATCH',
      objectPath(ref, obj.metadata.namespace, obj.metadata.name, subresource),
      {
        fieldManager: options.fieldManager,
        force: String(options.force ?? true),
        dryRun: options.dryRun ? 'All' : undefined,
        fieldValidation: this.options.fieldValidation,
      },
      obj,
      'application/apply-patch+yaml',
      undefined,
      answer,
    );
    return answer === 'decoded' ? withType(res.body, ref) : undefined;
  }

  /** JSON merge patch (RFC 7386) of an object or one of its subresources. */
  async mergePatch(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    options: { subresource?: string; fieldManager?: string } = {},
  ): Promise<KObject> {
    const ref = toResourceRef({ apiVersion, kind });
    const res = await this.request(
      'patch',
      ref,
      'PATCH',
      objectPath(ref, namespace, name, options.subresource),
      {
        fieldManager: options.fieldManager,
        fieldValidation: this.options.fieldValidation,
      },
      patch,
      'application/merge-patch+json',
    );
    return withType(res.body, ref);
  }

  /** POST; fails with 409 AlreadyExists when the name is taken. */
  async create(obj: KObject, options: { fieldManager?: string; dryRun?: boolean } = {}): Promise<KObject> {
    const ref = toResourceRef(obj);
    const res = await this.request(
      'create',
      ref,
      'POST',
      objectPath(ref, obj.metadata.namespace),
      {
        fieldManager: options.fieldManager,
        dryRun: options.dryRun ? 'All' : undefined,
        fieldValidation: this.options.fieldValidation,
      },
      obj,
    );
    return withType(res.body, ref);
  }

  /** PUT; metadata.resourceVersion, when set, is a precondition (409 Conflict if stale). */
  async update(obj: KObject, options: { fieldManager?: string; subresource?: string } = {}): Promise<KObject> {
    const ref = toResourceRef(obj);
    const res = await this.request(
      'update',
      ref,
      'PUT',
      objectPath(ref, obj.metadata.namespace, obj.metadata.name, options.subresource),
      {
        fieldManager: options.fieldManager,
        fieldValidation: this.options.fieldValidation,
      },
      obj,
    );
    return withType(res.body, ref);
  }

  /**
   * Deletes an object. True when the server accepted the delete, false when it
   * was already gone (404). With `uid`, only that incarnation is deleted: a
   * different uid under the same name fails with 409 Conflict.
   */
  async delete(
    apiVersion: string,
    kind: string,
    namespace: string | undefined,
    name: string,
    options: { uid?: string; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ): Promise<boolean> {
    const ref = toResourceRef({ apiVersion, kind });
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: options.propagationPolicy ?? 'Background',
      ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
    };
    try {
      await this.request('delete', ref, 'DELETE', objectPath(ref, namespace, name), {}, body);
      return true;
    } catch (error) {
      if (isApiError(error, 404)) return false;
      throw error;
    }
  }

  // --- transport ---

  private observe(verb: Verb, method: string, ref: ResourceRef, code: number, started: number): void {
    try {
      this.options.onRequest?.({ verb, kind: ref.kind, code, seconds: (performance.now() - started) / 1000, method, host: this.base.host });
    } catch {
      // metrics must never break a request
    }
  }

  private async request(
    verb: Verb,
    ref: ResourceRef,
    method: string,
    path: string,
    query: Record<string, string | undefined> = {},
    body?: unknown,
    contentType = 'application/json',
    signal?: AbortSignal,
    answer: Answer = 'decoded',
  ): Promise<Response> {
    const started = performance.now();
    let code = 0;
    try {
      signal?.throwIfAborted();
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = await this.open(method, path, query, payload && { type: contentType, length: payload.length });
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const timer = setTimeout(
          () => req.destroy(new Error(`no answer within ${this.options.timeoutMs / 1000}s`)),
          this.options.timeoutMs,
        );
        const onAbort = () => req.destroy(signal!.reason instanceof Error ? signal!.reason : new DOMException('aborted', 'AbortError'));
        signal?.addEventListener('abort', onAbort, { once: true });
        if (signal?.aborted) onAbort(); // aborted while the request was being built
        const settle = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        req.on('response', (r) => {
          r.on('end', settle);
          r.on('close', settle);
          resolve(r);
        });
        req.on('error', (error) => {
          settle();
          reject(error);
        });
        req.end(payload);
      }).catch((error) => {
        throw transportError(verb, ref, error);
      });
      code = res.statusCode ?? 0;
      const ok = code >= 200 && code < 300;
      const text = await readBody(res, !ok || answer === 'decoded').catch((error) => {
        throw transportError(verb, ref, error);
      });
      if (!ok) throw this.apiError(verb, path, code, res.headers, text);
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        throw new Error(`${verb} ${ref.kind}: the API server answered ${code} with a body that is not JSON`);
      }
      return { status: code, headers: res.headers, body: parsed };
    } finally {
      this.observe(verb, method, ref, code, started);
    }
  }

  /** Builds an authenticated request (not yet ended). */
  private async open(
    method: string,
    path: string,
    query: Record<string, string | undefined>,
    content?: { type: string; length: number },
  ): Promise<http.ClientRequest> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') search.set(k, v);
    const qs = search.toString();
    const isHttps = this.base.protocol === 'https:';
    const credentials = await this.credentialOptions(isHttps);
    const opts: https.RequestOptions = {
      ...credentials,
      protocol: this.base.protocol,
      hostname: this.base.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.base.port || (isHttps ? 443 : 80),
      method,
      path: `${this.base.pathname.replace(/\/$/, '')}${path}${qs ? `?${qs}` : ''}`,
      headers: {
        ...credentials.headers,
        Accept: 'application/json',
        'User-Agent': this.options.userAgent,
        // Explicit length: Node sends a DELETE body without one, which breaks keep-alive framing.
        ...(content ? { 'Content-Type': content.type, 'Content-Length': String(content.length) } : {}),
      },
    };
    return (isHttps ? https : http).request(opts);
  }

  /** The KubeConfig's credentials as request options (with the agent for them), applied again after CREDENTIALS_TTL_MS. */
  private async credentialOptions(isHttps: boolean): Promise<https.RequestOptions> {
    const now = performance.now();
    if (this.credentials && now - this.credentials.at < CREDENTIALS_TTL_MS) return this.credentials.opts;
    const opts: https.RequestOptions = { headers: {} };
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (error) {
      // For http:// servers (kubectl proxy) client-node refuses to build an agent
      // unless skipTLSVerify is set; credentials were already applied by then.
      if (isHttps || !/HTTP protocol is not allowed/.test((error as Error).message)) throw credentialsError(this.kc, error);
    }
    const agent = this.agentFor(opts, isHttps);
    // Our own agent holds the TLS material (as one SecureContext); a proxy agent takes it per request.
    const applied: https.RequestOptions = this.kc.getCurrentCluster()?.proxyUrl
      ? { ...opts, agent }
      : { headers: opts.headers, auth: opts.auth, agent };
    this.credentials = { at: now, opts: applied };
    return applied;
  }

  /** An ApiError for a non-2xx answer; a 401 also drops the credentials, so the next request applies them afresh. */
  private apiError(verb: Verb, path: string, status: number, headers: http.IncomingHttpHeaders, text: string): ApiError {
    if (status === 401) this.credentials = undefined;
    return apiErrorFrom(verb, path, status, headers, text);
  }

  /** One keep-alive agent per TLS identity; replaced when a rotated credential changes it. */
  private agentFor(opts: https.RequestOptions, isHttps: boolean): http.Agent {
    const cluster = this.kc.getCurrentCluster();
    const proxied = Boolean(cluster?.proxyUrl);
    const hash = createHash('sha256');
    for (const part of [
      opts.ca,
      opts.cert,
      opts.key,
      opts.pfx,
      opts.passphrase,
      String(opts.rejectUnauthorized),
      opts.servername,
      cluster?.proxyUrl,
    ]) {
      hash.update(part === undefined ? '-' : Array.isArray(part) ? part.map(String).join(',') : String(part));
      hash.update('\0');
    }
    const key = hash.digest('hex');
    if (this.agent?.key === key) return this.agent.agent;
    this.agent?.agent.destroy();
    let agent: http.Agent;
    if (proxied && opts.agent instanceof http.Agent) {
      agent = opts.agent; // client-node built a proxy agent; keep it
    } else if (isHttps) {
      // One SecureContext for every connection: given ca/cert/key instead, Node parses them into a new
      // one per connection, and turns them into strings on every request to name its socket pool.
      agent = new https.Agent({
        keepAlive: true,
        secureContext: createSecureContext({ ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase }),
        servername: opts.servername,
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      });
    } else {
      agent = new http.Agent({ keepAlive: true });
    }
    this.agent = { key, agent };
    return agent;
  }
}

function withType<T>(obj: T, ref: ResourceRef): T {
  // Items of typed lists come without apiVersion/kind.
  const o = obj as { apiVersion?: string; kind?: string } | undefined;
  if (o && typeof o === 'object') {
    o.apiVersion ??= ref.apiVersion;
    o.kind ??= ref.kind;
  }
  return obj;
}

/**
 * A failure to get the kubeconfig user's credentials, said as such. client-node rejects a failed exec
 * plugin with its stderr as the message, which is empty when the plugin printed nothing.
 */
function credentialsError(kc: KubeConfig, error: unknown): Error {
  const user = kc.getCurrentUser();
  const detail = (error as Error).message?.trim().split('\n')[0] || 'it failed and printed nothing';
  const exec = user?.exec as { command?: string } | undefined;
  const source = exec?.command
    ? `the exec plugin ${exec.command} of kubeconfig user ${user!.name}`
    : `kubeconfig user ${user?.name ?? '(none)'}`;
  return new KubeAccessError(`cannot get credentials from ${source}: ${detail}`);
}
