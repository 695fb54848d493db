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
          } catch {
          }
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
  readonly queueDepth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of the work queue.', labelNames: ['name'], registers: [this.registry] });
  readonly queueAdds = new Counter({ name: 'workqueue_adds_total', help: 'Keys added to the work queue.', labelNames: ['name'], registers: [this.registry] });
  readonly queueRetries = new Counter({ name: 'workqueue_retries_total', help: 'Retries (rate-limited re-adds) in the work queue.', labelNames: ['name'], registers: [this.registry] });
  readonly queueLatency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long a key waits in the work queue before it is processed.',
    labelNames: ['name'],
    buckets: [0.001, 0.01, 0.1, 1, 10, 60],
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long processing a key takes.',
    labelNames: ['name'],
    buckets: [0.001, 0.01, 0.1, 1, 10, 60],
    registers: [this.registry],
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  onRequest = (info: RequestInfo): void => {
    this.apiRequests.observe({ verb: info.verb, code: String(info.code) }, info.seconds);
  };

  forController(name: string): ControllerMetrics {
    // Series start at zero, so rate() and alerts see a controller before its first retry or error.
    this.queueAdds.inc({ name }, 0);
    this.queueRetries.inc({ name }, 0);
    this.queueDepth.set({ name }, 0);
    for (const result of ['success', 'error', 'requeue_after']) this.reconcileTotal.inc({ controller: name, result }, 0);
    return {
      queue: {
        onAdd: () => this.queueAdds.inc({ name }),
        onRetry: () => this.queueRetries.inc({ name }),
        onDepth: (n) => this.queueDepth.set({ name }, n),
        onQueueLatency: (s) => this.queueLatency.observe({ name }, s),
        onWorkDuration: (s) => this.workDuration.observe({ name }, s),
      },
      onReconcile: (controller, result, seconds) => {
        this.reconcileDuration.observe({ controller }, seconds);
        this.reconcileTotal.inc({ controller, result });
      },
      onManaged: (controller, counts) => {
        for (const [kind, n] of Object.entries(counts)) this.managedObjects.set({ controller, kind }, n);
      },
    };
  }
}
