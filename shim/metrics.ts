// The operator's Prometheus metrics (prom-client). Names follow Prometheus
// conventions and, for the queue, client-go's, so existing dashboards work.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerMetrics } from './controller.ts';
import type { RequestInfo } from './kube/client.ts';

/** One series of a provided gauge: its label values and value. */
export interface GaugeSample<L extends string> {
  labels: Record<L, string>;
  value: number;
}

export type GaugeProvider<L extends string> = () => Iterable<GaugeSample<L>> | Promise<Iterable<GaugeSample<L>>>;

/**
 * A gauge whose series are read at scrape time from providers registered
 * later (the way cert-manager exports certificate expiry from its caches):
 * the series always reflect what the caches hold now, and an object that is
 * gone stops being exported without anyone having to delete its series.
 */
export class ProvidedGauge<L extends string> {
  readonly gauge: Gauge<L>;
  private readonly providers = new Set<GaugeProvider<L>>();

  constructor(registry: Registry, config: { name: string; help: string; labelNames: readonly L[] }) {
    const providers = this.providers;
    this.gauge = new Gauge<L>({
      ...config,
      registers: [registry],
      async collect() {
        this.reset();
        for (const provide of providers) {
          // A failing provider loses its own series for this scrape, not the whole /metrics answer.
          try {
            for (const sample of await provide()) this.set(sample.labels as Partial<Record<L, string>>, sample.value);
          } catch {}
        }
      },
    });
  }

  /** Registers a provider; returns a function that removes it. */
  provide(provider: GaugeProvider<L>): () => void {
    this.providers.add(provider);
    return () => this.providers.delete(provider);
  }
}

/**
 * controller-runtime's reconcile-time buckets (pkg/internal/controller/metrics/metrics.go), which
 * client-go's rest_client_request_duration_seconds uses too (pkg/metrics/client_go_adapter.go).
 */
export const CONTROLLER_RUNTIME_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5,
  4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's work-queue buckets: prometheus.ExponentialBuckets(10e-9, 10, 12), 10 ns to 1000 s (controller-runtime pkg/metrics/workqueue.go). */
export const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));
/** Prometheus's DefBuckets, which controller-runtime's webhook latency uses (pkg/webhook/internal/metrics/metrics.go). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The reconcile results controller-runtime counts (pkg/internal/controller/controller.go); we never return a bare `requeue`. */
export const RECONCILE_RESULTS = ['success', 'error', 'requeue', 'requeue_after'] as const;

/** What a controller's work queue tells the scrape-time gauges. */
export interface QueueGauges {
  /** Seconds of work in progress not yet observed by work_duration (client-go's unfinished_work_seconds). */
  unfinishedWorkSeconds(): number;
  /** Seconds the longest-running key has been processing. */
  longestRunningSeconds(): number;
}

/** One cache's health, for informer metrics and /readyz. */
export interface InformerHealth {
  kind: string;
  /** The namespace it watches; '' for all. */
  namespace: string;
  /** Wall-clock ms of its last successful list, and of the last sign of a working watch; 0 before any. */
  lastListMs: number;
  lastWatchMs: number;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileDuration = new Histogram({
    name: 'spiceai_operator_reconcile_duration_seconds',
    help: 'Operator reconcile loop latency.',
    labelNames: ['controller'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly reconcileTotal = new Counter({
    name: 'spiceai_operator_reconcile_total',
    help: 'Reconciles by controller and result (success, error, requeue_after).',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });

  // --- controller-runtime's families, same names, types, labels and buckets (see test/unit/controller-runtime-metrics.test.ts) ---
  readonly crReconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers: [this.registry],
  });
  readonly crReconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  /** Always 0: every error of ours is retried (there is no terminal error). */
  readonly crTerminalReconcileErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Total number of terminal reconciliation errors per controller',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  /** An exception a reconcile throws is an error, not a panic: always 0, exported so dashboards find the series. */
  readonly crReconcilePanics = new Counter({
    name: 'controller_runtime_reconcile_panics_total',
    help: 'Total number of reconciliation panics per controller',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly crReconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    buckets: CONTROLLER_RUNTIME_BUCKETS,
    registers: [this.registry],
  });
  readonly crMaxConcurrentReconciles = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'Maximum number of concurrent reconciles per controller',
    labelNames: ['controller'],
    registers: [this.registry],
  });
  readonly crActiveWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'],
    registers: [this.registry],
  });

  // --- client-go's work-queue family, as controller-runtime registers it: name and controller are both the controller's name ---
  readonly queueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue by workqueue and priority',
    labelNames: ['name', 'controller', 'priority'],
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames: ['name', 'controller'],
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames: ['name', 'controller'],
    registers: [this.registry],
  });
  readonly queueLatency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    labelNames: ['name', 'controller'],
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    labelNames: ['name', 'controller'],
    buckets: WORKQUEUE_BUCKETS,
    registers: [this.registry],
  });
  private readonly queues = new Map<string, QueueGauges>();
  readonly queueUnfinishedWork: Gauge<'name' | 'controller'>;
  readonly queueLongestRunning: Gauge<'name' | 'controller'>;

  /** client-go's leader-election gauge (controller-runtime pkg/metrics/leaderelection.go): 1 while this copy holds the Lease `name`. */
  readonly leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master. 'name' is the string used to identify the lease. Please make sure to group by name.",
    labelNames: ['name'],
    registers: [this.registry],
  });
  /** client-go's request counter (controller-runtime pkg/metrics/client_go_adapter.go); code is `<error>` when no answer came. */
  readonly restClientRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Number of HTTP requests, partitioned by status code, method, and host.',
    labelNames: ['code', 'method', 'host'],
    registers: [this.registry],
  });
  /** controller-runtime's webhook families (pkg/webhook/internal/metrics/metrics.go); webhook is the path served. */
  readonly crWebhookLatency = new Histogram({
    name: 'controller_runtime_webhook_latency_seconds',
    help: 'Histogram of the latency of processing admission requests',
    labelNames: ['webhook', 'code'],
    buckets: DEFAULT_BUCKETS,
    registers: [this.registry],
  });
  readonly crWebhookRequests = new Counter({
    name: 'controller_runtime_webhook_requests_total',
    help: 'Total number of admission requests by HTTP status code.',
    labelNames: ['webhook', 'code'],
    registers: [this.registry],
  });
  readonly crWebhookInFlight = new Gauge({
    name: 'controller_runtime_webhook_requests_in_flight',
    help: 'Current number of admission requests being served.',
    labelNames: ['webhook'],
    registers: [this.registry],
  });

  /** Informer health: when each cache last listed, and last saw its watch work (read at scrape time). */
  readonly informerLastSync = new ProvidedGauge(this.registry, {
    name: 'spiceai_operator_informer_last_sync_timestamp_seconds',
    help: 'When a cache of the operator last listed (operation="list") or last saw its watch work (operation="watch"), as a Unix timestamp in seconds; the oldest of the caches of one kind and namespace (namespace "" watches all).',
    labelNames: ['kind', 'namespace', 'operation'] as const,
  });

  readonly apiRequests = new Histogram({
    name: 'spiceai_operator_kubernetes_request_duration_seconds',
    help: 'Kubernetes API request latency by verb and HTTP code (0: no response).',
    labelNames: ['verb', 'code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly managedObjects = new Gauge({
    name: 'spiceai_operator_managed_objects',
    help: 'Objects the operator manages, by controller and kind.',
    labelNames: ['controller', 'kind'],
    registers: [this.registry],
  });

  /**
   * Certificate expiry (PKI, reference §7.5), fed from the Secrets the PKI
   * handler's caches hold: `clusterCaExpiry.provide(() => [{ labels: {namespace, cluster}, value: notAfterSeconds }])`.
   * The documented alert `spiceai_operator_cluster_ca_expiry_timestamp_seconds - time() < 7 * 24 * 3600` works as is;
   * `namespace` is added because cluster names are unique only within one.
   */
  readonly clusterCaExpiry = new ProvidedGauge(this.registry, {
    name: 'spiceai_operator_cluster_ca_expiry_timestamp_seconds',
    help: 'Cluster CA certificate expiry, as a Unix timestamp in seconds.',
    labelNames: ['namespace', 'cluster'] as const,
  });
  readonly nodeCertificateExpiry = new ProvidedGauge(this.registry, {
    name: 'spiceai_operator_cluster_node_certificate_expiry_timestamp_seconds',
    help: 'Expiry of the certificate of one cluster node (scheduler or executor pod), as a Unix timestamp in seconds.',
    labelNames: ['namespace', 'cluster', 'node'] as const,
  });
  /**
   * What crashloop protection compares with --pause-crashlooping-pods-threshold. A gauge, not the
   * older `spiceai_operator_pod_dead_total` counter: it falls when dead pods are replaced.
   */
  readonly deadPodObservations = new ProvidedGauge(this.registry, {
    name: 'spiceai_operator_dead_pod_observations',
    help: 'Dead-pod observations of a SpicepodSet (restarts and failures of its pods that are not Ready), as crashloop protection counts them.',
    labelNames: ['namespace', 'spicepodset'] as const,
  });
  /** Pods that asked for the sidecar and run without it (shim/missed-sidecars.ts), by namespace. */
  readonly podsMissingSidecar = new ProvidedGauge(this.registry, {
    name: 'spiceai_operator_pods_missing_sidecar',
    help: 'Pods annotated for sidecar injection that run without the sidecar and are not marked injected (created while the injector was unreachable), by namespace.',
    labelNames: ['namespace'] as const,
  });
  readonly webhookAdmissions = new Counter({
    name: 'spiceai_operator_webhook_admissions_total',
    help: 'Sidecar-injector admission requests by result (allowed: injected, skipped: passed untouched, denied, error).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly webhookAdmissionDuration = new Histogram({
    name: 'spiceai_operator_webhook_admission_duration_seconds',
    help: 'Sidecar-injector admission latency, from the request read to the answer (includes the ConfigMap read).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly webhookCertificateExpiry = new Gauge({
    name: 'spiceai_operator_webhook_certificate_expiry_timestamp_seconds',
    help: "Expiry of the sidecar injector's serving certificate, as a Unix timestamp in seconds.",
    registers: [this.registry],
  });
  /** Pushes of these metrics over OTLP (OTEL_EXPORTER_OTLP_*, shim/otlp-export.ts). */
  readonly otlpExports = new Counter({
    name: 'spiceai_operator_otlp_exports_total',
    help: "Pushes of the operator's metrics over OTLP (OTEL_EXPORTER_OTLP_ENDPOINT), by result (success, failure).",
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const queues = this.queues;
    const queueGauge = (name: string, help: string, read: (q: QueueGauges) => number) =>
      new Gauge<'name' | 'controller'>({
        name,
        help,
        labelNames: ['name', 'controller'],
        registers: [this.registry],
        collect() {
          for (const [controller, queue] of queues) this.set({ name: controller, controller }, read(queue));
        },
      });
    this.queueUnfinishedWork = queueGauge(
      'workqueue_unfinished_work_seconds',
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      (q) => q.unfinishedWorkSeconds(),
    );
    this.queueLongestRunning = queueGauge(
      'workqueue_longest_running_processor_seconds',
      'How many seconds has the longest running processor for workqueue been running.',
      (q) => q.longestRunningSeconds(),
    );
  }

  onRequest = (info: RequestInfo): void => {
    this.apiRequests.observe({ verb: info.verb, code: String(info.code) }, info.seconds);
    // client-go counts a request that got no answer under code "<error>" (rest/request.go).
    this.restClientRequests.inc({ code: info.code ? String(info.code) : '<error>', method: info.method ?? '', host: info.host ?? '' });
  };

  onOtlpExport = (result: 'success' | 'failure'): void => {
    this.otlpExports.inc({ result });
  };

  /** Leader election of the Lease `name` (client-go's On/Off). */
  onLeading(name: string, leading: boolean): void {
    this.leaderStatus.set({ name }, leading ? 1 : 0);
  }

  /** Times one admission request to `webhook` (the path served), as controller-runtime's webhook server does. */
  webhookRequest(webhook: string): (code: number) => void {
    const started = performance.now();
    this.crWebhookInFlight.inc({ webhook });
    let done = false;
    return (code) => {
      if (done) return;
      done = true;
      this.crWebhookInFlight.dec({ webhook });
      this.crWebhookRequests.inc({ webhook, code: String(code) });
      this.crWebhookLatency.observe({ webhook, code: String(code) }, (performance.now() - started) / 1000);
    };
  }

  /** Feeds the informer gauge from `read` (the caches in use at scrape time): the stalest cache of each kind and namespace. */
  provideInformerHealth(read: () => InformerHealth[]): () => void {
    return this.informerLastSync.provide(() => {
      const oldest = new Map<string, { kind: string; namespace: string; list: number; watch: number }>();
      for (const h of read()) {
        const key = `${h.kind}/${h.namespace}`;
        const seen = oldest.get(key);
        if (!seen) oldest.set(key, { kind: h.kind, namespace: h.namespace, list: h.lastListMs, watch: h.lastWatchMs });
        else {
          seen.list = Math.min(seen.list, h.lastListMs);
          seen.watch = Math.min(seen.watch, h.lastWatchMs);
        }
      }
      return [...oldest.values()].flatMap(({ kind, namespace, list, watch }) => [
        { labels: { kind, namespace, operation: 'list' }, value: list / 1000 },
        { labels: { kind, namespace, operation: 'watch' }, value: watch / 1000 },
      ]);
    });
  }

  forController(name: string): ControllerMetrics {
    const q = { name, controller: name };
    // Series start at zero, so rate() and alerts see a controller before its first retry or error
    // (controller-runtime initialises the same ones: pkg/internal/controller/controller.go initMetrics).
    this.queueAdds.inc(q, 0);
    this.queueRetries.inc(q, 0);
    this.queueDepth.set({ ...q, priority: '' }, 0);
    // client-go creates a queue's histograms with it, so their series exist before the first key.
    this.queueLatency.zero(q);
    this.workDuration.zero(q);
    for (const result of ['success', 'error', 'requeue_after']) this.reconcileTotal.inc({ controller: name, result }, 0);
    for (const result of RECONCILE_RESULTS) this.crReconcileTotal.inc({ controller: name, result }, 0);
    this.crReconcileErrors.inc({ controller: name }, 0);
    this.crTerminalReconcileErrors.inc({ controller: name }, 0);
    this.crReconcilePanics.inc({ controller: name }, 0);
    this.crActiveWorkers.set({ controller: name }, 0);
    return {
      queue: {
        onAdd: () => this.queueAdds.inc(q),
        onRetry: () => this.queueRetries.inc(q),
        onDepth: (n) => this.queueDepth.set({ ...q, priority: '' }, n),
        onQueueLatency: (s) => this.queueLatency.observe(q, s),
        onWorkDuration: (s) => this.workDuration.observe(q, s),
      },
      onQueue: (queue) => {
        this.queues.set(name, queue);
      },
      onWorkers: (max) => this.crMaxConcurrentReconciles.set({ controller: name }, max),
      onActiveWorkers: (n) => this.crActiveWorkers.set({ controller: name }, n),
      onReconcile: (controller, result, seconds) => {
        this.reconcileDuration.observe({ controller }, seconds);
        this.reconcileTotal.inc({ controller, result });
        this.crReconcileTime.observe({ controller }, seconds);
        this.crReconcileTotal.inc({ controller, result });
        if (result === 'error') this.crReconcileErrors.inc({ controller });
      },
      onManaged: (controller, counts) => {
        for (const [kind, n] of Object.entries(counts)) this.managedObjects.set({ controller, kind }, n);
      },
    };
  }
}
