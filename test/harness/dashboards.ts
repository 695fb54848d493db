// Queries of dashboards platform teams already run, which our /metrics must answer.

// The queries of kubebuilder's controller-runtime Grafana dashboard, as its plugin documents them
// (kubernetes-sigs/kubebuilder docs/book/src/plugins/available/grafana-v1-alpha.md @ 2a94da3236735f1998c38f683264ce80bc543a65).
export const KUBEBUILDER_DASHBOARD_QUERIES = [
  'sum(rate(controller_runtime_reconcile_total{job="$job"}[5m])) by (instance, pod)',
  'sum(rate(controller_runtime_reconcile_errors_total{job="$job"}[5m])) by (instance, pod)',
  'rate(process_cpu_seconds_total{job="$job", namespace="$namespace", pod="$pod"}[5m]) * 100',
  'process_resident_memory_bytes{job="$job", namespace="$namespace", pod="$pod"}',
  'histogram_quantile(0.50, sum(rate(workqueue_queue_duration_seconds_bucket{job="$job", namespace="$namespace"}[5m])) by (instance, name, le))',
  'histogram_quantile(0.50, sum(rate(workqueue_work_duration_seconds_bucket{job="$job", namespace="$namespace"}[5m])) by (instance, name, le))',
  'sum(rate(workqueue_adds_total{job="$job", namespace="$namespace"}[5m])) by (instance, name)',
  'sum(rate(workqueue_retries_total{job="$job", namespace="$namespace"}[5m])) by (instance, name)',
  'controller_runtime_active_workers{job="$job", namespace="$namespace"}',
  'workqueue_depth{job="$job", namespace="$namespace"}',
  'rate(workqueue_unfinished_work_seconds{job="$job", namespace="$namespace"}[5m])',
];
