import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readmeWithTable, valuesTable } from '../../scripts/chart-docs.ts';

test("README's Helm values table is what the chart says (run npm run chart:docs when this fails)", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.fixture(readmeWithTable(readme), readme);
});

test('every value of the seed table is documented with its default', () => {
  const table = valuesTable();
  for (const key of [
    'image.repository',
    'image.name',
    'image.tag',
    'image.pullPolicy',
    'image.pullSecrets',
    'installCRDs',
    'serviceAccount.create',
    'serviceAccount.name',
    'serviceAccount.annotations',
    'resources',
    'nodeSelector',
    'tolerations',
    'affinity',
    'serviceMonitor.enabled',
    'serviceMonitor.interval',
    'cluster.domain',
    'pauseCrashloopingPodsThreshold',
    'sidecarInjector.defaultImage',
    'sidecarInjector.defaultImagePullPolicy',
    'sidecarInjector.defaultResources.requests.cpu',
    'sidecarInjector.defaultResources.limits.memory',
    'telemetryProperties',
  ]) {
    assert.match(table, new RegExp(`\\| \`${key.replace('.', '\\.')}\` \\| [^|]+ \\|`), key);
  }
  assert.match(table, /`pauseCrashloopingPodsThreshold` \| .* \| `10` \|/);
  assert.match(table, /`serviceMonitor\.interval` \| .* \| `"30s"` \|/);
});

test("README's install section states the chart's kubeVersion, its default image and how to build it", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const chart = parse(readFileSync(new URL('../../chart/Chart.yaml', import.meta.url), 'utf8'));
  const minimum = /^>=(\d+\.\d+)\.0-0$/.exec(chart.kubeVersion)?.[1];
  assert.ok(minimum, chart.kubeVersion);
  const install = readme.slice(readme.indexOf('## Install on a real cluster'));
  assert.match(install, new RegExp(`Kubernetes ${minimum.replace('.', '\\.')} or newer`));
  assert.ok(install.includes(`\`spiceai-operator:<appVersion>\` (\`${chart.appVersion}\`)`), 'the default image');
  for (const command of [
    'npm run image',
    'kind load image-archive',
    'k3d image import',
    'minikube image load',
    '--push',
    'helm install spiceai-operator ./chart',
  ]) {
    assert.ok(install.includes(command), command);
  }
});

test.run();
