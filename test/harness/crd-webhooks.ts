// The operator's CRD webhooks (conversion and validation) in an integration test: the CRDs as the
// files ship them, an operator that serves the webhooks on loopback (the API server calls its
// --webhook-url), and, after the file, the CRDs' conversion put back as shipped: the next file's
// server-side apply sets clientConfig.service, which cannot sit next to the url this operator set.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { eventually, kubectl, kubectlJson, kubectlOk } from './kube.ts';
import { startOperator, type OperatorProcess } from './operator.ts';

export const CRDS = ['spicepodsets.spice.ai', 'spicepodclusters.spice.ai'] as const;
export const VALIDATING_CONFIGURATION = 'spiceai-operator-validation';

const shippedCrd = (crd: string) => parse(readFileSync(new URL(`../../crds/${crd}.yaml`, import.meta.url), 'utf8'));

/**
 * Starts an operator serving the CRD webhooks (with `args`), once its webhook server serves; with
 * `validating`, also once the API server's ValidatingWebhookConfiguration calls this operator.
 */
export async function startWithCrdWebhooks(args: string[], o: { validating?: boolean } = {}): Promise<OperatorProcess> {
  const operator = await startOperator([...args, '--enable-crd-webhooks', '--webhook-url', 'https://127.0.0.1:0/mutate']);
  const port = await webhookPort(operator);
  if (o.validating) {
    await eventually(
      'the validating webhook registered',
      () =>
        kubectlJson(['get', 'validatingwebhookconfiguration', VALIDATING_CONFIGURATION]).webhooks[0].clientConfig.url.endsWith(
          `:${port}/validate`,
        ),
      30_000,
      500,
    );
  }
  return operator;
}

/** The port the operator's webhook server listens on, once it serves. */
export async function webhookPort(operator: OperatorProcess): Promise<string> {
  return String((await operator.waitForLog((l) => l.msg === 'webhook serving')).webhook)
    .split(':')
    .pop()!;
}

/** After a file: the validating configuration removed and the CRDs' conversion as shipped. */
export function restoreShippedWebhooks(): void {
  kubectl(['delete', 'validatingwebhookconfiguration', VALIDATING_CONFIGURATION, '--ignore-not-found']);
  for (const crd of CRDS)
    kubectlOk([
      'patch',
      'crd',
      crd,
      '--type',
      'json',
      '-p',
      JSON.stringify([{ op: 'replace', path: '/spec/conversion', value: shippedCrd(crd).spec.conversion }]),
    ]);
}
