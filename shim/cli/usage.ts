// Command-line parsing shared by every subcommand: strict flags, --help, and
// user errors that end in one line and a non-zero exit, never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { goStyleBooleans } from './flag-aliases.ts';

/** An error the user caused and can fix; printed as one line. */
export class UsageError extends Error {}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Lines describing each flag, printed by --help. */
  flags: [string, string][];
  allowPositionals?: boolean;
  /** `given`: the names of the options on the command line (a value equal to a default tells nothing). */
  run(values: Record<string, unknown>, positionals: string[], given: ReadonlySet<string>): Promise<number | void>;
}

export function helpText(command: Command): string {
  const width = Math.max(...command.flags.map(([f]) => f.length), 10);
  const lines = [`${command.summary}`, '', `Usage: ${command.usage}`, '', 'Flags:'];
  for (const [flag, text] of command.flags) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  return `${lines.join('\n')}\n`;
}

export function parseCommandArgs(command: Command, argv: string[]) {
  try {
    return parseArgs({
      args: goStyleBooleans(argv, command.options),
      tokens: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
  } catch (error) {
    const e = error as { code?: string; message: string };
    const flag = /'([^']+)'/.exec(e.message)?.[1];
    const what =
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `unknown flag ${flag}`
        : e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
          ? `unexpected argument ${flag}`
          : e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
            ? `flag ${flag?.split(' ')[0] ?? ''} needs a value`
            : e.message.split('\n')[0];
    throw new UsageError(`${what} (see spiceai-operator ${command.name} --help)`);
  }
}

/** The names of the options a parse saw on the command line. */
export function givenOptions(parsed: { tokens?: { kind: string; name?: string }[] }): Set<string> {
  return new Set((parsed.tokens ?? []).filter((t) => t.kind === 'option' && t.name).map((t) => t.name!));
}
