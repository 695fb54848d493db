// Other names `run` answers to (RunFlag.aliases in run-flags.ts): the
// kubebuilder scaffold's flags (cmd/main.go, controller-runtime's zap
// options) and the product's newest spellings (G3: --metrics-bind-address,
// --webhook-bind-address, --watch-namespaces); and the environment variables
// operators conventionally read (RunFlag.env: WATCH_NAMESPACE, POD_NAMESPACE).
// One setting, several names: passing two of them with different values is a
// usage error, never a silent pick.
import { UsageError } from './usage.ts';

export interface AliasedFlag {
  name: string;
  aliases?: string[];
  env?: string;
}

/**
 * Sets each flag in `values` from whichever of its names was given (`given`: the names on the
 * command line), else from its env variable, else leaves the parser's default; drops the aliases.
 */
export function resolveAliases(
  values: Record<string, unknown>,
  given: ReadonlySet<string>,
  flags: readonly AliasedFlag[],
  env: Record<string, string | undefined>,
): Record<string, unknown> {
  const out = { ...values };
  for (const { name, aliases = [], env: variable } of flags) {
    if (!aliases.length && !variable) continue;
    const named = [name, ...aliases].filter((n) => given.has(n) && values[n] !== undefined);
    if (new Set(named.map((n) => JSON.stringify(values[n]))).size > 1) {
      throw new UsageError(`${named.map((n) => `--${n}`).join(' and ')} name the same setting with different values: pass one`);
    }
    if (named.length) out[name] = values[named[0]!];
    else if (variable && env[variable]) out[name] = env[variable];
    for (const alias of aliases) delete out[alias];
  }
  return out;
}

/**
 * Go's flag package accepts `--name=true` and `--name=false` for a boolean (the kubebuilder
 * scaffold's `--leader-elect=false`, `--metrics-secure=false`). node:util parseArgs does not: rewrite
 * them to `--name`, and `--name=false` to `--no-name` where the command has that flag (else drop
 * it: false is a boolean flag's default).
 */
export function goStyleBooleans(argv: string[], options: Record<string, { type: string }>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--([^=]+)=(true|false)$/i.exec(arg);
    if (!m || options[m[1]!]?.type !== 'boolean') {
      out.push(arg);
      continue;
    }
    if (m[2]!.toLowerCase() === 'true') out.push(`--${m[1]}`);
    else if (options[`no-${m[1]}`]?.type === 'boolean') out.push(`--no-${m[1]}`);
  }
  return out;
}
