// The webhook serving certificate's decision (core/pki/serving-certificate-policy.ts)
// as a table: one Secret per row, the plan and the reason expected. The
// certificate inside a managed Secret is judged by the cluster nodes' leaf
// chain (leaf-policy.ts), so each leaf row also checks that the verdict is
// exactly reviewLeaf's: same reason for the same state, whoever looks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeBase64 } from '../../core/base64.ts';
import {
  createCA,
  issueLeaf,
  LeafReason,
  parseCertificate,
  planServingCertificate,
  renewServingMaterial,
  reviewLeaf,
  SERVING_SECRET_CHECKS,
  ServingSecretReason,
  verifyIssuedBy,
  type ServingCertificatePlan,
} from '../../core/pki/index.ts';

const DAY = 86_400_000;
const T0 = new Date('2026-03-01T00:00:00Z');
const at = (days: number) => new Date(T0.getTime() + days * DAY);
const wanted = { dnsNames: ['webhook.ns.svc'], ipAddresses: [] as string[] };

const ca = await createCA({ commonName: 'webhook-ca', validityDays: 30, now: T0 });
const otherCA = await createCA({ commonName: 'other-ca', validityDays: 3650, now: T0 });
const leaf = await issueLeaf({ ca, commonName: 'webhook.ns.svc', ...wanted, validityDays: 3, now: T0 });
const strangerLeaf = await issueLeaf({ ca: otherCA, commonName: 'webhook.ns.svc', ...wanted, validityDays: 3, now: T0 });
const otherNamesLeaf = await issueLeaf({
  ca,
  commonName: 'webhook.ns.svc',
  dnsNames: ['old.ns.svc'],
  ipAddresses: [],
  validityDays: 3,
  now: T0,
});
const otherKey = (await issueLeaf({ ca, commonName: 'x', dnsNames: ['x'], ipAddresses: [], validityDays: 3, now: T0 })).keyPem!;

type Text = { 'ca.crt'?: string; 'ca.key'?: string; 'tls.crt'?: string; 'tls.key'?: string };
const secret = (text: Text) => ({
  data: Object.fromEntries(
    Object.entries(text)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, encodeBase64(v!)]),
  ),
});
const managed = (over: Text = {}): Text => ({
  'ca.crt': ca.certPem,
  'ca.key': ca.keyPem,
  'tls.crt': leaf.certPem,
  'tls.key': leaf.keyPem!,
  ...over,
});

const reasonsOf = (p: ServingCertificatePlan) => {
  if (p.action === 'keep') return { action: p.action };
  if (p.action === 'renew') return { action: p.action, ca: p.renewCA?.reason, leaf: p.reissueLeaf?.reason };
  return { action: p.action, reason: p.reason };
};

const rows: Array<
  [what: string, secret: { data?: Record<string, string> } | undefined, now: Date, expected: ReturnType<typeof reasonsOf>]
> = [
  ['no Secret', undefined, T0, { action: 'create', reason: ServingSecretReason.SecretMissing }],
  [
    'no ca.key, all three present',
    secret({ 'ca.crt': ca.certPem, 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem! }),
    T0,
    { action: 'serve', reason: ServingSecretReason.IssuedElsewhere },
  ],
  [
    'no ca.key: served even when expired (not ours to renew)',
    secret({ 'ca.crt': ca.certPem, 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem! }),
    at(100),
    { action: 'serve', reason: ServingSecretReason.IssuedElsewhere },
  ],
  [
    'no ca.key and no tls.key',
    secret({ 'ca.crt': ca.certPem, 'tls.crt': leaf.certPem }),
    T0,
    { action: 'report', reason: ServingSecretReason.IncompleteSecret },
  ],
  ['empty Secret', secret({}), T0, { action: 'report', reason: ServingSecretReason.IncompleteSecret }],
  ['ca.key but garbage ca.crt', secret(managed({ 'ca.crt': 'garbage' })), T0, { action: 'report', reason: ServingSecretReason.UnusableCA }],
  ['ca.key of another CA', secret(managed({ 'ca.key': otherCA.keyPem })), T0, { action: 'report', reason: ServingSecretReason.UnusableCA }],
  [
    'ca.key but no ca.crt',
    secret({ 'ca.key': ca.keyPem, 'tls.crt': leaf.certPem, 'tls.key': leaf.keyPem! }),
    T0,
    { action: 'report', reason: ServingSecretReason.UnusableCA },
  ],
  ['everything current', secret(managed()), T0, { action: 'keep' }],
  ['no tls.key', secret(managed({ 'tls.key': undefined })), T0, { action: 'renew', ca: undefined, leaf: LeafReason.Missing }],
  ['garbage tls.crt', secret(managed({ 'tls.crt': 'garbage' })), T0, { action: 'renew', ca: undefined, leaf: LeafReason.Unreadable }],
  [
    'tls.key of another certificate',
    secret(managed({ 'tls.key': otherKey })),
    T0,
    { action: 'renew', ca: undefined, leaf: LeafReason.KeyMismatch },
  ],
  ['expired (also due, also before: expiry wins)', secret(managed()), at(4), { action: 'renew', ca: undefined, leaf: LeafReason.Expired }],
  [
    'issued by another CA',
    secret(managed({ 'tls.crt': strangerLeaf.certPem, 'tls.key': strangerLeaf.keyPem! })),
    T0,
    { action: 'renew', ca: undefined, leaf: LeafReason.IssuedByAnotherCA },
  ],
  [
    'other names',
    secret(managed({ 'tls.crt': otherNamesLeaf.certPem, 'tls.key': otherNamesLeaf.keyPem! })),
    T0,
    { action: 'renew', ca: undefined, leaf: LeafReason.NamesChanged },
  ],
  [
    'other names and a mismatched key: the key wins (the chain order)',
    secret(managed({ 'tls.crt': otherNamesLeaf.certPem, 'tls.key': otherKey })),
    T0,
    { action: 'renew', ca: undefined, leaf: LeafReason.KeyMismatch },
  ],
  ['past two thirds of the certificate', secret(managed()), at(2.1), { action: 'renew', ca: undefined, leaf: LeafReason.DueForRenewal }],
  [
    'past two thirds of the CA, no certificate: both at once',
    secret(managed({ 'tls.crt': undefined, 'tls.key': undefined })),
    at(21),
    { action: 'renew', ca: ServingSecretReason.CADueForRenewal, leaf: LeafReason.Missing },
  ],
];

for (const [what, s, now, expected] of rows) {
  test(`serving certificate plan: ${what}`, async () => {
    const plan = await planServingCertificate({ secret: s, wanted, now });
    assert.equal(reasonsOf(plan), expected);
    if (plan.action === 'renew' && plan.reissueLeaf) {
      const { verdict } = await reviewLeaf({
        certPem: plan.material.certPem,
        keyPem: plan.material.keyPem,
        wanted,
        issuerPem: plan.material.caPem,
        now,
      });
      assert.equal(plan.reissueLeaf, verdict, 'the same verdict as a cluster node certificate in the same state');
    }
  });
}

test('serving certificate plan: a CA past two thirds is renewed even when its certificate is current', async () => {
  const fresh = await issueLeaf({ ca, commonName: 'webhook.ns.svc', ...wanted, validityDays: 30, now: at(20) });
  const plan = await planServingCertificate({
    secret: secret(managed({ 'tls.crt': fresh.certPem, 'tls.key': fresh.keyPem! })),
    wanted,
    now: at(21),
  });
  assert.equal(reasonsOf(plan), { action: 'renew', ca: ServingSecretReason.CADueForRenewal, leaf: undefined });
});

test('serving certificate plan: the Secret checks run in priority order', () => {
  assert.equal(
    SERVING_SECRET_CHECKS.map(([name]) => name),
    ['secretExists', 'foreignSecretIsComplete', 'secretHoldsTheCAKey', 'caCanSign'],
  );
});

test('renewal: the CA is re-signed with its own key and subject, and certificates it issued keep verifying', async () => {
  const plan = await planServingCertificate({ secret: secret(managed()), wanted, now: at(21) });
  assert.is(plan.action, 'renew');
  if (plan.action !== 'renew') return;
  const identity = { commonName: 'webhook.ns.svc', wanted, now: at(21), caValidityDays: 30, leafValidityDays: 3 };
  const renewed = await renewServingMaterial(plan.material, { renewCA: !!plan.renewCA, reissueLeaf: !!plan.reissueLeaf }, identity);
  assert.is(renewed.caKeyPem, ca.keyPem);
  assert.is.not(renewed.caPem, ca.certPem);
  const [before, after] = [await parseCertificate(ca.certPem), await parseCertificate(renewed.caPem)];
  assert.is(after.subject, before.subject);
  assert.ok(after.notAfter > before.notAfter);
  assert.ok(await verifyIssuedBy(leaf.certPem, renewed.caPem), 'the old certificate verifies against the renewed CA');
  assert.ok(await verifyIssuedBy(renewed.certPem, renewed.caPem));
  assert.is.not(renewed.certPem, leaf.certPem, 'the expired certificate was re-issued');
});

test('renewal: only the certificate, the CA kept byte for byte', async () => {
  const plan = await planServingCertificate({ secret: secret(managed()), wanted, now: at(2.5) });
  if (plan.action !== 'renew') return assert.unreachable(plan.action);
  const renewed = await renewServingMaterial(
    plan.material,
    { renewCA: !!plan.renewCA, reissueLeaf: !!plan.reissueLeaf },
    { commonName: 'webhook.ns.svc', wanted, now: at(2.5) },
  );
  assert.is(renewed.caPem, ca.certPem);
  assert.is.not(renewed.certPem, leaf.certPem);
  assert.equal((await parseCertificate(renewed.certPem)).dnsNames, wanted.dnsNames);
});

test.run();
