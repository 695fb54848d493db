// A hook Secret's decision (core/pki/hook-certificate-policy.ts, `run
// --handler-service`) as a table: one Secret per row, the plan and the reasons
// expected. The certificate is judged by the shared leaf chain against the
// operator's current CA, so each leaf row also checks that the verdict is
// exactly reviewLeaf's (the webhook's and a cluster node's rule).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeBase64 } from '../../core/base64.ts';
import {
  createCA,
  HOOK_SECRET_CHECKS,
  HookSecretReason,
  issueLeaf,
  LeafReason,
  planHookCertificate,
  renewCA,
  reviewLeaf,
  type HookCertificatePlan,
} from '../../core/pki/index.ts';

const DAY = 86_400_000;
const T0 = new Date('2026-03-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const wanted = { dnsNames: ['wl-hook', 'wl-hook.ops', 'wl-hook.ops.svc', 'wl-hook.ops.svc.cluster.local'], ipAddresses: [] as string[] };
const MANAGED = ['app.kubernetes.io/managed-by', 'spiceai-operator'] as const;

const ca = await createCA({ commonName: 'operator-ca', validityDays: 3650, now: T0 });
const resigned = await renewCA(ca, { validityDays: 3650, now: at(1) });
const otherCA = await createCA({ commonName: 'other-ca', validityDays: 3650, now: T0 });
const leaf = await issueLeaf({ ca, commonName: 'wl-hook.ops.svc', ...wanted, validityDays: 30, now: T0 });
const stranger = await issueLeaf({ ca: otherCA, commonName: 'wl-hook.ops.svc', ...wanted, validityDays: 30, now: T0 });
const oldNames = await issueLeaf({
  ca,
  commonName: 'wl-hook.ops.svc',
  dnsNames: ['old-hook.ops.svc'],
  ipAddresses: [],
  validityDays: 30,
  now: T0,
});

type Text = { 'ca.crt'?: string; 'tls.crt'?: string; 'tls.key'?: string };
const secret = (text: Text, labels: Record<string, string> = { [MANAGED[0]]: MANAGED[1] }) => ({
  metadata: { labels },
  data: Object.fromEntries(
    Object.entries(text)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, encodeBase64(v!)]),
  ),
});
const ours = (over: Text = {}): Text => ({ 'ca.crt': ca.certPem, 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem!, ...over });

const reasonsOf = (p: HookCertificatePlan) => {
  if (p.action === 'keep') return { action: p.action };
  if (p.action === 'renew') return { action: p.action, leaf: p.reissueLeaf?.reason, trust: p.trust?.reason };
  return { action: p.action, reason: p.reason };
};

const rows: Array<
  [what: string, secret: ReturnType<typeof secret> | undefined, caPem: string, now: Date, expected: ReturnType<typeof reasonsOf>]
> = [
  ['no Secret', undefined, ca.certPem, T0, { action: 'create', reason: HookSecretReason.SecretMissing }],
  ["someone else's Secret: never written", secret(ours(), {}), ca.certPem, T0, { action: 'report', reason: HookSecretReason.NotManaged }],
  [
    "someone else's, even when expired",
    secret(ours(), { [MANAGED[0]]: 'Helm' }),
    ca.certPem,
    at(100),
    { action: 'report', reason: HookSecretReason.NotManaged },
  ],
  ['current', secret(ours()), ca.certPem, at(1), { action: 'keep' }],
  ['no certificate yet', secret({ 'ca.crt': ca.certPem }), ca.certPem, T0, { action: 'renew', leaf: LeafReason.Missing, trust: undefined }],
  [
    "the key is not the certificate's",
    secret(ours({ 'tls.key': stranger.keyPem! })),
    ca.certPem,
    T0,
    { action: 'renew', leaf: LeafReason.KeyMismatch, trust: undefined },
  ],
  ['expired', secret(ours()), ca.certPem, at(31), { action: 'renew', leaf: LeafReason.Expired, trust: undefined }],
  [
    'issued by another CA',
    secret(ours({ 'tls.crt': stranger.certPem, 'tls.key': stranger.keyPem! })),
    ca.certPem,
    T0,
    { action: 'renew', leaf: LeafReason.IssuedByAnotherCA, trust: undefined },
  ],
  [
    'the Service names changed',
    secret(ours({ 'tls.crt': oldNames.certPem, 'tls.key': oldNames.keyPem! })),
    ca.certPem,
    T0,
    { action: 'renew', leaf: LeafReason.NamesChanged, trust: undefined },
  ],
  ['two thirds of its life', secret(ours()), ca.certPem, at(21), { action: 'renew', leaf: LeafReason.DueForRenewal, trust: undefined }],
  [
    'the CA re-signed with its own key: the leaf still verifies, ca.crt is rewritten',
    secret(ours()),
    resigned.certPem,
    at(2),
    { action: 'renew', leaf: undefined, trust: HookSecretReason.TrustChanged },
  ],
  [
    'ca.crt edited',
    secret(ours({ 'ca.crt': otherCA.certPem })),
    ca.certPem,
    at(1),
    { action: 'renew', leaf: undefined, trust: HookSecretReason.TrustChanged },
  ],
];

for (const [what, s, caPem, now, expected] of rows) {
  test(`hook Secret: ${what}`, async () => {
    const plan = await planHookCertificate({ secret: s, managedBy: MANAGED, caPem, wanted, now });
    assert.equal(reasonsOf(plan), expected);
    if (s && plan.action !== 'report') {
      // The leaf's verdict is the shared chain's, to the word.
      const text = (k: string) => (s.data[k] ? Buffer.from(s.data[k]!, 'base64').toString('utf8') : undefined);
      const { verdict } = await reviewLeaf({ certPem: text('tls.crt'), keyPem: text('tls.key'), wanted, issuerPem: caPem, now });
      assert.equal(plan.action === 'renew' ? plan.reissueLeaf : undefined, verdict);
    }
  });
}

test('the Secret checks run in this order', () => {
  assert.equal(
    HOOK_SECRET_CHECKS.map(([name]) => name),
    ['secretExists', 'secretIsManaged'],
  );
});

test.run();
