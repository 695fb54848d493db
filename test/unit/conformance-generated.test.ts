// Every spiced container the operator generates, judged by spiced's rules
// (test/conformance): SpicepodSet pods from every example in both workload
// modes, scheduler and executor pods of SpicepodClusters (mutual TLS and
// allowInsecureConnections), and injected sidecars, with telemetry
// properties whose values spiced would not read back as strings as written.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { everyGeneratedContainer } from '../conformance/generated.ts';
import { checkSpicedArgs } from '../conformance/spiced-args.ts';
import { checkSpicedContainer, effectiveRole } from '../conformance/spiced-start.ts';

const containers = await everyGeneratedContainer();

test('the generator reaches every kind of container: Deployment, StatefulSets, scheduler, executor, insecure, sidecar', () => {
  const origins = containers.map((c) => c.origin).join('\n');
  assert.match(origins, /: Deployment /);
  assert.match(origins, /spicepodset-full\.yaml: StatefulSet /);
  assert.match(origins, /-scheduler: StatefulSet /);
  assert.match(origins, /-executor: StatefulSet /);
  assert.match(origins, /allowInsecureConnections/);
  assert.match(origins, /injected spice-sidecar/);
  const roles = containers.map((c) =>
    effectiveRole(checkSpicedArgs(c.container.command, c.container.args, { env: c.container.env, fields: c.fields })),
  );
  assert.ok(roles.includes('scheduler') && roles.includes('executor') && roles.includes(undefined));
});

test("every generated container passes spiced's command line, its start rules, and the pod wiring", () => {
  const failures = containers.map((c) => ({ origin: c.origin, problems: checkSpicedContainer(c) })).filter((f) => f.problems.length);
  assert.equal(
    failures.map((f) => `${f.origin}\n  ${f.problems.join('\n  ')}`),
    [],
  );
});

test('telemetry properties reach spiced as the strings they are', () => {
  const sidecar = containers.find((c) => c.origin.includes('injected'))!;
  const args = sidecar.container.args!;
  const values = args.filter((_, i) => args[i - 1] === '--set-runtime');
  assert.equal(values, [
    'telemetry.properties.build="42"',
    'telemetry.properties.canary="true"',
    'telemetry.properties.empty=""',
    'telemetry.properties.env=prod',
    'telemetry.properties.owner="team\\x3Ddata"',
  ]);
});

test.run();
