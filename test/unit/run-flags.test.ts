// `run`'s flags come from one table (shim/cli/commands/run-flags.ts): the
// parser's defaults, `run --help` and the README's `run` flag table all say
// the same defaults, and name the same flags.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRunFlags, runCommand } from '../../shim/cli/commands/run.ts';
import { RUN_FLAGS } from '../../shim/cli/commands/run-flags.ts';
import { helpText, parseCommandArgs, UsageError } from '../../shim/cli/usage.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README's `run` flag table: each row's flags and its default cell. */
function readmeRows(): { flags: string[]; default: string }[] {
  const section = readme.slice(readme.indexOf('### `run`'));
  const body = section.slice(0, section.indexOf('\n### ', 1));
  return body
    .split('\n')
    .filter((line) => line.startsWith('| `--'))
    .map((line) => {
      const [flags, dflt] = line.split(' | ');
      return { flags: [...flags!.matchAll(/`--([a-z-]+)/g)].map((m) => m[1]!), default: dflt!.trim() };
    });
}

test('the README names exactly the flags run has, and their other names', () => {
  const documented = readmeRows()
    .flatMap((r) => r.flags)
    .sort();
  assert.equal(documented, RUN_FLAGS.flatMap((f) => [f.name, ...(f.aliases ?? [])]).sort());
});

test('the README states each default the parser uses, and none for flags without one', () => {
  const rows = readmeRows();
  for (const flag of RUN_FLAGS) {
    const row = rows.find((r) => r.flags.includes(flag.name))!;
    if (flag.default !== undefined) assert.is(row.default, `\`${flag.default}\``, `--${flag.name}`);
    else assert.not.match(row.default, /^`/, `--${flag.name} has no default value`);
  }
});

test("the parser and --help use the table's defaults", () => {
  const values = parseCommandArgs(runCommand, []).values as Record<string, unknown>;
  const help = helpText(runCommand);
  for (const flag of RUN_FLAGS) {
    assert.is(values[flag.name], flag.default, `--${flag.name}`);
    const line = help.split('\n').find((l) => l.trimStart().startsWith(`--${flag.name}${flag.value ? ` ${flag.value}` : ''} `));
    assert.ok(line, `--${flag.name} in --help`);
    if (flag.default !== undefined) assert.ok(line!.endsWith(`(default ${flag.default})`), line);
  }
});

test('--workers and --handler-workers: a whole number in range, or a usage error naming the flag and the range', async () => {
  const parse = (args: string[]) => parseRunFlags(parseCommandArgs(runCommand, args).values as Record<string, unknown>);
  const parsed = await parse([]);
  assert.equal([parsed.workers, parsed.hookWorkers], [4, 16]);
  assert.is((await parse(['--handler-workers', '64'])).hookWorkers, 64);
  for (const [args, message] of [
    [['--handler-workers', '0'], /--handler-workers 0: expected a whole number from 1 to 256/],
    [['--handler-workers', '2.5'], /--handler-workers 2\.5: expected a whole number from 1 to 256/],
    [['--workers', '65'], /--workers 65: expected a whole number from 1 to 64/],
  ] as [string[], RegExp][]) {
    try {
      await parse(args);
      assert.unreachable(args.join(' '));
    } catch (error) {
      assert.instance(error, UsageError);
      assert.match((error as Error).message, message);
    }
  }
});

test.run();
