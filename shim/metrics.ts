// The operator's Prometheus metrics (prom-client). Names follow Prometheus
// conventions and, for the queue, client-go's, so existing dashboards work.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerMetrics } from './controller.ts';
import type { RequestInfo } from './kube/client.ts';

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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  onRequest = (info: RequestInfo): void => {
    this.apiRequests.observe({ verb: info.verb, code: String(info.code) }, info.seconds);
  };

  forController(name: string): ControllerMetrics {
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
