import { writeFileSync } from 'node:fs';
import type { CrdKind } from '../../../core/spec/crds.ts';
import { UsageError, type Command } from '../usage.ts';

const KINDS: CrdKind[] = ['SpicepodSet', 'SpicepodCluster'];

export const jsonSchemaCommand: Command = {
  name: 'json-schema',
  summary: "Print the OpenAPI v3 JSON schema of a CRD's spec (SpicepodSet by default), e.g. for editor validation.",
  usage: 'spiceai-operator json-schema [--kind SpicepodSet|SpicepodCluster] [--output FILE]',
  options: { kind: { type: 'string', default: 'SpicepodSet' }, output: { type: 'string', short: 'o' } },
  flags: [
    ['--kind KIND', 'SpicepodSet (default) or SpicepodCluster'],
    ['-o, --output FILE', 'write the schema to FILE instead of standard output'],
    ['-h, --help', 'show this help'],
  ],
  async run(values) {
    const kind = KINDS.find((k) => k.toLowerCase() === String(values.kind).toLowerCase());
    if (!kind) throw new UsageError(`unknown --kind ${values.kind}: use SpicepodSet or SpicepodCluster`);
    const { specJsonSchema } = await import('../../../core/spec/crds.ts');
    const text = `${JSON.stringify(specJsonSchema(kind), null, 2)}\n`;
    if (values.output) writeFileSync(values.output as string, text);
    else process.stdout.write(text);
  },
};
