// Where image inputs (node binaries, Debian packages, built layers) are cached,
// beside the control plane binaries: ~/.cache/spiceai-operator/image.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const cacheRoot = (): string => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'spiceai-operator', 'image');

/** Runs a command, failing with its output when it fails; returns stdout. */
export function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${String(r.stderr ?? '').trim() || String(r.stdout ?? '').trim()}`);
  return String(r.stdout ?? '');
}

export const hasCommand = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
