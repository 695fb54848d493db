import { writeFileSync } from 'node:fs';
import { UsageError, type Command } from '../usage.ts';

export async function crdsYaml(): Promise<string> {
  const [{ stringify }, { allCrds }] = await Promise.all([import('yaml'), import('../../../core/spec/crds.ts')]);
  return allCrds()
    .map((crd) => stringify(crd, { lineWidth: 0 }))
    .join('---\n');
}

export const crdCommand: Command = {
  name: 'crd',
  summary: 'Print the SpicepodSet and SpicepodCluster CRDs as YAML, write them to a file, or apply them to the cluster.',
  usage: 'spiceai-operator crd [--output FILE] [--apply [--kubeconfig PATH] [--context NAME]]',
  options: {
    output: { type: 'string', short: 'o' },
    apply: { type: 'boolean' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
  },
  flags: [
    ['-o, --output FILE', 'write the CRDs to FILE instead of standard output'],
    ['--apply', 'server-side apply the CRDs to the current cluster; prints created, configured or unchanged per CRD'],
    ['--kubeconfig PATH', 'kubeconfig to use with --apply (default: $KUBECONFIG, then ~/.kube/config)'],
    ['--context NAME', 'kubeconfig context to use with --apply'],
    ['-h, --help', 'show this help'],
  ],
  async run(values) {
    if (values.apply) {
      if (values.output) throw new UsageError('--apply and --output cannot be combined');
      // Loaded on demand: the Kubernetes client is heavy and only --apply needs it.
      const { applyCrds } = await import('../../kube/apply-crds.ts');
      for (const { name, result } of await applyCrds(values.kubeconfig as string | undefined, values.context as string | undefined)) {
        process.stdout.write(`customresourcedefinition.apiextensions.k8s.io/${name} ${result}\n`);
      }
      return;
    }
    if (values.kubeconfig || values.context) throw new UsageError('--kubeconfig and --context only apply with --apply');
    const text = await crdsYaml();
    if (values.output) writeFileSync(values.output as string, text);
    else process.stdout.write(text);
  },
};
