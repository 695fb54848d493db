// `run`'s other names (kubebuilder's and the product's spellings, env
// fallbacks), Go-style booleans, and the log level and format flags.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { goStyleBooleans, resolveAliases } from '../../shim/cli/flag-aliases.ts';
import { parseLoggingFlags, runCommand } from '../../shim/cli/commands/run.ts';
import { RUN_FLAGS } from '../../shim/cli/commands/run-flags.ts';
import { givenOptions, parseCommandArgs, UsageError } from '../../shim/cli/usage.ts';
import { jsonLogger } from '../../shim/log.ts';

const parse = (argv: string[], env: Record<string, string> = {}) => {
  const parsed = parseCommandArgs(runCommand, argv);
  return resolveAliases(parsed.values as Record<string, unknown>, givenOptions(parsed), RUN_FLAGS, env);
};

test('kubebuilder and product spellings set the same settings; defaults and env fallbacks apply when none is given', () => {
  const defaults = parse([]);
  assert.is(defaults['metrics-endpoint'], '0.0.0.0:9090');
  assert.is(defaults['webhook-endpoint'], '0.0.0.0:8443');
  assert.is(defaults['lease-name'], 'spiceai-operator-leader');
  assert.is(defaults['operator-namespace'], 'spiceai-operator-system');
  assert.is(defaults.namespaces, undefined, 'all namespaces');
  assert.is(defaults['metrics-bind-address'], undefined, 'aliases are folded into the flag they name');

  const kubebuilder = parse([
    '--metrics-bind-address',
    ':8080',
    '--leader-election-id',
    'abc.example.com',
    '--zap-log-level',
    'error',
    '--webhook-bind-address',
    ':9443',
  ]);
  assert.is(kubebuilder['metrics-endpoint'], ':8080');
  assert.is(kubebuilder['lease-name'], 'abc.example.com');
  assert.is(kubebuilder['log-level'], 'error');
  assert.is(kubebuilder['webhook-endpoint'], ':9443');
  assert.is(parse(['--watch-namespaces', 'a,b']).namespaces, 'a,b');
  assert.is(parse(['--watch-namespace', 'a']).namespaces, 'a');

  assert.is(parse([], { WATCH_NAMESPACE: 'team-a,team-b' }).namespaces, 'team-a,team-b');
  assert.is(parse([], { WATCH_NAMESPACE: '' }).namespaces, undefined, 'empty: all namespaces');
  assert.is(parse(['--namespaces', 'x'], { WATCH_NAMESPACE: 'y' }).namespaces, 'x', 'a flag beats the environment');
  assert.is(parse([], { POD_NAMESPACE: 'ops' })['operator-namespace'], 'ops');
  assert.is(parse(['--operator-namespace', 'mine'], { POD_NAMESPACE: 'ops' })['operator-namespace'], 'mine');
  // The same value twice is fine; two different ones are refused, naming both.
  assert.is(parse(['--metrics-endpoint', ':1', '--metrics-bind-address', ':1'])['metrics-endpoint'], ':1');
  // Given explicitly, the default value still beats the environment and conflicts with an alias.
  assert.is(
    parse(['--operator-namespace', 'spiceai-operator-system'], { POD_NAMESPACE: 'ops' })['operator-namespace'],
    'spiceai-operator-system',
  );
  assert.throws(() => parse(['--metrics-endpoint', '0.0.0.0:9090', '--metrics-bind-address', ':8080']), /name the same setting/);
  assert.throws(
    () => parse(['--metrics-endpoint', ':1', '--metrics-bind-address', ':2']),
    (e: Error) => e instanceof UsageError && /--metrics-endpoint and --metrics-bind-address name the same setting/.test(e.message),
  );
});

test('Go-style booleans: --name=true and --name=false, the latter as --no-name where the command has one', () => {
  const options = {
    'leader-elect': { type: 'boolean' },
    'no-leader-elect': { type: 'boolean' },
    verbose: { type: 'boolean' },
    'lease-name': { type: 'string' },
  };
  assert.equal(goStyleBooleans(['--leader-elect=true', '--verbose=false', '--lease-name=false'], options), [
    '--leader-elect',
    '--lease-name=false',
  ]);
  assert.equal(goStyleBooleans(['--leader-elect=false'], options), ['--no-leader-elect']);
  assert.is((parseCommandArgs(runCommand, ['--leader-elect=false']).values as Record<string, unknown>)['no-leader-elect'], true);
});

test('log level and format: debug|info|warn|error, json|console; contradictions are refused', () => {
  assert.equal(parseLoggingFlags({}), { level: 'info', encoder: 'json' });
  assert.equal(parseLoggingFlags({ verbose: true }), { level: 'debug', encoder: 'json' });
  assert.equal(parseLoggingFlags({ 'log-level': 'error', 'zap-encoder': 'console' }), { level: 'error', encoder: 'console' });
  assert.throws(() => parseLoggingFlags({ 'log-level': 'loud' }), /--log-level loud: expected one of debug, info, warn, error/);
  assert.throws(() => parseLoggingFlags({ 'zap-encoder': 'logfmt' }), /--zap-encoder logfmt: expected one of json, console/);
  assert.throws(() => parseLoggingFlags({ 'log-level': 'error', verbose: true }), /contradict/);

  const lines: string[] = [];
  const errorsOnly = jsonLogger({ level: 'error', write: (l) => lines.push(l) });
  errorsOnly.info('hidden');
  errorsOnly.warn('hidden');
  errorsOnly.error('shown', { controller: 'workloads' });
  assert.is(lines.length, 1);
  assert.is(JSON.parse(lines[0]!).msg, 'shown');

  lines.length = 0;
  const console_ = jsonLogger({ encoder: 'console', write: (l) => lines.push(l) }).child({ controller: 'pki' });
  console_.info('reconciled', { name: 'dq' });
  console_.debug('hidden');
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT[\d:.]+Z\tINFO\treconciled\t\{"controller":"pki","name":"dq"\}\n$/);
});

test('the executable refuses contradictory or unknown values in one line', () => {
  const bin = new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname;
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, 'run', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' } });
  for (const [args, pattern] of [
    [['--metrics-endpoint', ':1', '--metrics-bind-address', ':2'], /name the same setting/],
    [['--leader-elect', '--no-leader-elect'], /--leader-elect and --no-leader-elect contradict/],
    [['--zap-log-level', 'trace'], /--log-level trace: expected one of/],
    [['--health-probe-bind-address', 'nope'], /--health-probe-bind-address: nope is not host:port/],
  ] as const) {
    const r = run(...args);
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
  const help = spawnSync(process.execPath, [bin, 'run', '--help'], { encoding: 'utf8' }).stdout;
  for (const flag of [
    '--metrics-bind-address',
    '--health-probe-bind-address',
    '--leader-election-id',
    '--zap-log-level',
    '--zap-encoder',
    '--watch-namespaces',
    '--webhook-bind-address',
  ])
    assert.ok(help.includes(flag), `--help names ${flag}`);
});

test.run();
