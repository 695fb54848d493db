// The README's metrics table is generated from the registry (scripts/metrics-docs.ts).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { metricDocs, metricsTable, readmeWithMetrics } from '../../scripts/metrics-docs.ts';
import { OperatorMetrics } from '../../shim/metrics.ts';
import { checkMetrics } from '../harness/prometheus.ts';

test("README's metrics table is what the registry exports (run npm run metrics:docs when this fails)", async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.fixture(await readmeWithMetrics(readme), readme);
});

test('every family /metrics exports is a row, with the type and labels the scrape shows', async () => {
  const metrics = new OperatorMetrics();
  const c = metrics.forController('workloads');
  c.onQueue!({ unfinishedWorkSeconds: () => 0, longestRunningSeconds: () => 0 });
  c.onWorkers!(1);
  metrics.onRequest({ verb: 'get', kind: 'Pod', code: 200, seconds: 0.1, method: 'GET', host: 'h:1' });
  metrics.onLeading('lease', true);
  metrics.webhookRequest('/mutate')(200);
  const scraped = checkMetrics(await metrics.registry.metrics()).families;
  const docs = new Map((await metricDocs()).map((d) => [d.name, d]));
  const table = await metricsTable();
  for (const [name, family] of scraped) {
    if (/^(process|nodejs)_/.test(name)) continue;
    const doc = docs.get(name);
    assert.ok(doc, `${name} is documented`);
    assert.is(doc!.type.toUpperCase(), family.type, name);
    for (const sample of family.metrics)
      for (const label of Object.keys(sample.labels)) if (label !== 'le') assert.ok(doc!.labels.includes(label), `${name}: ${label}`);
    assert.ok(table.includes(`| \`${name}\` |`), name);
  }
});

test.run();
