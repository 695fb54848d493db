import { UsageError, type Command } from '../usage.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'Start the operator controller (reconcilers, status API, metrics).',
  usage: 'spiceai-operator run [flags]',
  options: {},
  flags: [['-h, --help', 'show this help']],
  async run() {
    throw new UsageError('run: the controller is not part of this build yet');
  },
};
