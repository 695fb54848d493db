// The conformance kit, command-line half: the checker parses a container's
// command and args as spiced's clap parser does (after the kubelet's $(VAR)
// expansion) and refuses what spiced refuses. These tests show it is live;
// conformance-generated.test.ts runs it over everything the operator writes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  SPICED_FLAGS,
  checkSpicedArgs,
  expandKubeletReferences,
  parseSetRuntime,
  parseSocketAddress,
  runtimeAfterOverrides,
} from '../conformance/spiced-args.ts';
import { checkSpicedContainer, spicedStartProblems } from '../conformance/spiced-start.ts';

const SPICED = ['/usr/local/bin/spiced'];
const problems = (args: string[], env?: Parameters<typeof checkSpicedArgs>[2]) => checkSpicedArgs(SPICED, args, env).problems;

const SCHEDULER_ARGS = [
  '--http',
  '0.0.0.0:8090',
  '--flight',
  '0.0.0.0:50051',
  '--metrics',
  '0.0.0.0:9090',
  '--role',
  'scheduler',
  '--node-bind-address',
  '0.0.0.0:50052',
  '--node-advertise-address',
  '$(POD_NAME).c-scheduler-headless.ns.svc.cluster.local',
  '--node-mtls-ca-certificate-file',
  '/etc/spice/tls/ca.crt',
  '--node-mtls-certificate-file',
  '/etc/spice/tls/tls.crt',
  '--node-mtls-key-file',
  '/etc/spice/tls/tls.key',
];
const POD_NAME_ENV = {
  env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
  fields: { 'metadata.name': 'c-scheduler-0-0' },
};

test('every flag cites the runtime source it comes from', () => {
  for (const flag of SPICED_FLAGS) assert.match(flag.source, /^\[(lib|config|repl)\] /, flag.long);
  assert.ok(SPICED_FLAGS.some((f) => f.long === 'node-bind-address' && f.value === 'socket-address'));
  assert.ok(SPICED_FLAGS.some((f) => f.long === 'allow-insecure-connections' && f.value === null));
});

test('a scheduler command line as the operator writes it parses cleanly, $(POD_NAME) expanded', () => {
  const parsed = checkSpicedArgs(SPICED, SCHEDULER_ARGS, POD_NAME_ENV);
  assert.equal(parsed.problems, []);
  assert.equal(parsed.flags.get('node-advertise-address'), ['c-scheduler-0-0.c-scheduler-headless.ns.svc.cluster.local']);
  assert.equal(parsed.flags.get('role'), ['scheduler']);
});

test('the kubelet expansion: defined variables replaced, $$ escapes, undefined references kept (and then refused)', () => {
  assert.is(expandKubeletReferences('$(A).$(B)', { A: 'x' }), 'x.$(B)');
  assert.is(expandKubeletReferences('$$(A)', { A: 'x' }), '$(A)');
  assert.ok(
    problems(SCHEDULER_ARGS).some((p) => /\$\(POD_NAME\).*cannot expand/.test(p)),
    'no POD_NAME in env',
  );
  assert.ok(problems(SCHEDULER_ARGS).some((p) => /--node-advertise-address.*host name or IP/.test(p)));
});

test('unknown flags, missing or extra values, repeated options and stray positionals are refused', () => {
  assert.ok(problems(['--node-bind', '0.0.0.0:50052']).some((p) => /--node-bind is not a flag/.test(p)));
  assert.ok(problems(['--cluster-bind-address', '0.0.0.0:50052']).some((p) => /not a flag/.test(p)));
  assert.ok(problems(['--http']).some((p) => /--http needs a value/.test(p)));
  assert.ok(problems(['--http', '--flight', '0.0.0.0:1']).some((p) => /--http needs a value/.test(p)));
  assert.ok(problems(['--allow-insecure-connections=true']).some((p) => /takes no value/.test(p)));
  assert.ok(problems(['--http', '0.0.0.0:1', '--http', '0.0.0.0:2']).some((p) => /more than once/.test(p)));
  assert.equal(problems(['--set-runtime', 'a.b=c', '--set-runtime', 'a.d=e', '-vv']), [], 'appending options repeat');
  assert.ok(problems(['a.yaml', 'b.yaml']).some((p) => /one Spicepod path/.test(p)));
  assert.ok(problems(['--region', 'us-west-2']).some((p) => /requires --token/.test(p)));
  assert.ok(checkSpicedArgs(['/bin/sh'], []).problems.some((p) => /not spiced/.test(p)));
});

test('socket addresses are IP:port as Rust parses them: no host names, no leading zeros, IPv6 in brackets', () => {
  for (const good of ['0.0.0.0:50052', '10.1.2.3:1', '[::]:50052', '[fe80::1%2]:80', '127.0.0.1:65535'])
    assert.ok(parseSocketAddress(good), good);
  for (const bad of [
    'localhost:50052',
    'my-host:80',
    '0.0.0.0',
    ':50052',
    '0.0.0.0:65536',
    '010.0.0.1:80',
    '::1:80',
    '[::1]',
    '1.2.3:80',
    '0.0.0.0:-1',
    '[localhost]:80',
  ]) {
    assert.not.ok(parseSocketAddress(bad), bad);
  }
  assert.ok(problems(['--node-bind-address', 'localhost:50052']).some((p) => /not a host name/.test(p)));
  assert.ok(problems(['--http', 'my-service:8090']).some((p) => /--http/.test(p)));
});

test('enums, booleans and URLs take only their forms', () => {
  assert.ok(problems(['--role', 'worker']).some((p) => /scheduler, executor/.test(p)));
  assert.ok(problems(['--tls-enabled', 'yes']).some((p) => /true or false/.test(p)));
  assert.equal(problems(['--tls-enabled', 'false', '--telemetry-enabled=true']), []);
  assert.ok(problems(['--scheduler-address', 'https://a b:1']).some((p) => /URL/.test(p)));
  assert.equal(problems(['--scheduler-address', 'https://s.ns.svc:50052']), []);
});

test('--set-runtime: exactly one "=", the value read as YAML, and the runtime after the overrides must be valid', () => {
  assert.match(String(parseSetRuntime('telemetry.properties.owner=team=data')), /exactly one '='/);
  assert.ok(problems(['--set-runtime', 'telemetry.properties.owner=team=data']).length > 0);
  assert.equal(parseSetRuntime('telemetry.properties.build=42'), { path: ['telemetry', 'properties', 'build'], value: 42 });
  assert.equal(parseSetRuntime('telemetry.properties.build="42"'), { path: ['telemetry', 'properties', 'build'], value: '42' });
  assert.equal(parseSetRuntime('telemetry.properties.owner="team\\x3Ddata"'), {
    path: ['telemetry', 'properties', 'owner'],
    value: 'team=data',
  });
  assert.ok(runtimeAfterOverrides({}, ['telemetry.properties.build=42']).problems.some((p) => /must be string/.test(p)));
  assert.ok(runtimeAfterOverrides({}, ['telemetry.properties.empty=']).problems.some((p) => /must be string/.test(p)));
  assert.equal(runtimeAfterOverrides({}, ['telemetry.properties.env=prod', 'telemetry.properties.build="42"']).problems, []);
});

test('what spiced refuses at start: a scheduler without runtime.scheduler, cluster mode without advertise address or mTLS', () => {
  const parse = (args: string[]) => checkSpicedArgs(SPICED, args, POD_NAME_ENV);
  const pod = { version: 'v1', kind: 'Spicepod', name: 'x' };
  const withState = { ...pod, runtime: { scheduler: { state_location: 'file:///tmp/state' } } };
  assert.ok(spicedStartProblems(parse(SCHEDULER_ARGS), pod).some((p) => /state_location/.test(p)));
  assert.equal(spicedStartProblems(parse(SCHEDULER_ARGS), withState), []);
  const noAdvertise = SCHEDULER_ARGS.filter((a, i, all) => a !== '--node-advertise-address' && all[i - 1] !== '--node-advertise-address');
  assert.ok(spicedStartProblems(parse(noAdvertise), withState).some((p) => /--node-advertise-address/.test(p)));
  assert.ok(
    spicedStartProblems(parse(['--role', 'executor', '--node-advertise-address', 'e', '--node-mtls-key-file', '/k']), undefined).some((p) =>
      /requires all of/.test(p),
    ),
  );
  assert.equal(
    spicedStartProblems(
      parse(['--scheduler-address', 'http://s:50052', '--allow-insecure-connections', '--node-advertise-address', 'e']),
      undefined,
    ),
    [],
    'an executor needs no Spicepod',
  );
  assert.ok(spicedStartProblems(parse([]), undefined).some((p) => /no Spicepod/.test(p)));
});

test('a container: ports, probes and mounts agree with what spiced serves', () => {
  const base = {
    name: 'spiced',
    command: SPICED,
    args: [
      '--http',
      '0.0.0.0:8090',
      '--flight',
      '0.0.0.0:50051',
      '--role',
      'executor',
      '--scheduler-address',
      'https://s:50052',
      '--node-advertise-address',
      '$(POD_NAME).e',
      ...SCHEDULER_ARGS.slice(-6),
    ],
    env: POD_NAME_ENV.env,
    workingDir: '/app',
    ports: [
      { name: 'http', containerPort: 8090 },
      { name: 'flight', containerPort: 50051 },
      { name: 'cluster', containerPort: 50052 },
    ],
    volumeMounts: [
      { name: 'spicepod', mountPath: '/app/spicepod.yaml', subPath: 'spicepod.yaml' },
      { name: 'node-tls', mountPath: '/etc/spice/tls' },
    ],
  };
  const volumes = [
    { name: 'spicepod', configMap: { name: 'x' } },
    { name: 'node-tls', secret: { secretName: 'x-tls' } },
  ];
  const spicepod = { version: 'v1', kind: 'Spicepod', name: 'x' };
  assert.equal(checkSpicedContainer({ container: base, volumes, spicepod }), []);
  const check = (change: Record<string, unknown>) => checkSpicedContainer({ container: { ...base, ...change }, volumes, spicepod });
  assert.ok(
    check({ readinessProbe: { httpGet: { path: '/v1/ready', port: 'http' } } }).some((p) => /executor .*does not serve/.test(p)),
    'executors serve /health only',
  );
  assert.equal(check({ livenessProbe: { httpGet: { path: '/health', port: 'http' } } }), []);
  assert.ok(check({ livenessProbe: { httpGet: { path: '/health', port: 9999 } } }).some((p) => /serves HTTP on 8090/.test(p)));
  assert.ok(
    check({ ports: base.ports.filter((p) => p.name !== 'cluster') }).some((p) =>
      /--node-bind-address listens on 50052, which the container does not declare/.test(p),
    ),
  );
  assert.ok(
    check({ ports: [...base.ports, { name: 'metrics', containerPort: 9090 }] }).some((p) =>
      /9090 is declared but spiced listens on none/.test(p),
    ),
  );
  assert.ok(check({ volumeMounts: base.volumeMounts.slice(0, 1) }).some((p) => /not inside a mounted Secret/.test(p)));
  assert.ok(check({ args: base.args.map((a) => (a === '0.0.0.0:8090' ? '127.0.0.1:8090' : a)) }).some((p) => /loopback/.test(p)));
});

test.run();
