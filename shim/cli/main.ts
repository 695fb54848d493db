// The spiceai-operator executable: one binary, one subcommand per job.
import { crdCommand } from './commands/crd.ts';
import { jsonSchemaCommand } from './commands/json-schema.ts';
import { pkiCommand } from './commands/pki.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';
import { givenOptions, helpText, parseCommandArgs, UsageError, type Command } from './usage.ts';
import { KubeAccessError } from '../kube/access-error.ts';

const commands: Command[] = [crdCommand, runCommand, serveCommand, jsonSchemaCommand, pkiCommand];

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'spiceai-operator: the open Kubernetes operator for Spice.ai.',
    '',
    'Usage: spiceai-operator <command> [flags]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "spiceai-operator <command> --help" for the flags of a command.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new UsageError(`unknown command ${name} (see spiceai-operator --help)`);
    const parsed = parseCommandArgs(command, rest);
    const { values, positionals } = parsed;
    if (values.help) {
      process.stdout.write(helpText(command));
      return 0;
    }
    return (await command.run(values, positionals, givenOptions(parsed))) ?? 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof KubeAccessError) {
      process.stderr.write(`spiceai-operator: ${error.message}\n`);
      return 2;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    process.stderr.write(`spiceai-operator: ${message}\n`);
    if (process.env.SPICEAI_OPERATOR_DEBUG) console.error(error);
    return 1;
  }
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.exitCode = await main(process.argv.slice(2));
