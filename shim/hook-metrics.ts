// Metrics of hook calls (`run --handler-url`): each call's duration by
// handler and HTTP status ("0" when there was no answer: unreachable, deadline).
import { Histogram, type Registry } from 'prom-client';

export function hookRequestDuration(registry: Registry): (handler: string, code: number, seconds: number) => void {
  const histogram = new Histogram({
    name: 'spiceai_operator_hook_request_duration_seconds',
    help: 'Duration of calls to hook servers (run --handler-url), by handler and HTTP status code (0: no answer).',
    labelNames: ['handler', 'code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (handler, code, seconds) => histogram.observe({ handler, code: String(code) }, seconds);
}
