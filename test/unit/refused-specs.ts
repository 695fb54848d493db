// Specs whose children the API server refuses, each with the field the operator names for it.
// Shared by the unit test (the operator refuses them first) and the integration test api-rules
// (the real API server refuses what they render to, so the rules are not the operator's guess).
export const REFUSED_BY_THE_API_SERVER: [string, Record<string, unknown>, RegExp][] = [
  [
    'requests above limits',
    { resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } },
    /^spec\.resources\.requests\.cpu must be at most the cpu limit of 1/,
  ],
  ['a negative request', { resources: { requests: { memory: '-1Gi' } } }, /^spec\.resources\.requests\.memory must not be negative/],
  [
    'an extended resource without a limit',
    { resources: { requests: { 'example.com/gpu': 1 } } },
    /^spec\.resources\.limits\["example\.com\/gpu"\] is required/,
  ],
  ['an unknown resource', { resources: { limits: { gpu: 1 } } }, /^spec\.resources\.limits\.gpu "gpu" is not a container resource/],
  ['an env name with =', { env: [{ name: 'A=B', value: 'x' }] }, /^spec\.env\.0\.name .*other than '='/],
  [
    'value and valueFrom',
    { env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] },
    /^spec\.env\.0\.valueFrom may not be set together with value/,
  ],
  ['an empty valueFrom', { env: [{ name: 'A', valueFrom: {} }] }, /^spec\.env\.0\.valueFrom must set one of/],
  [
    'two sources',
    { env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, secretKeyRef: { name: 's', key: 'k' } } }] },
    /only one source/,
  ],
  [
    'an unknown field path',
    { env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.containers' } } }] },
    /^spec\.env\.0\.valueFrom\.fieldRef\.fieldPath "spec\.containers"/,
  ],
  [
    'a bad secret key',
    { env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'a/b' } } }] },
    /^spec\.env\.0\.valueFrom\.secretKeyRef\.key/,
  ],
  [
    'a bad ConfigMap name',
    { env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'Bad_Name', key: 'k' } } }] },
    /^spec\.env\.0\.valueFrom\.configMapKeyRef\.name/,
  ],
  [
    'an unknown resource field',
    { env: [{ name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }] },
    /^spec\.env\.0\.valueFrom\.resourceFieldRef\.resource/,
  ],
  [
    'envFrom with both refs',
    { envFromSource: [{ configMapRef: { name: 'a' }, secretRef: { name: 'b' } }] },
    /^spec\.envFromSource\.0 sets both/,
  ],
  ['envFrom with no ref', { envFromSource: [{ prefix: 'X_' }] }, /^spec\.envFromSource\.0 must set configMapRef or secretRef/],
  ['envFrom with a bad prefix', { envFromSource: [{ prefix: 'A=', secretRef: { name: 's' } }] }, /^spec\.envFromSource\.0\.prefix/],
  ['a storage size of 0', { volume: { storageRequests: '0' } }, /^spec\.volume\.storageRequests must be greater than zero/],
  ['a negative storage size', { volume: { storageRequests: '-5Gi' } }, /^spec\.volume\.storageRequests must be greater than zero/],
  ['a bad label key', { labels: { 'team name': 'x' } }, /^spec\.labels\["team name"\] is not a valid label/],
  ['a bad label value', { labels: { team: 'a b' } }, /^spec\.labels\["team"\] value "a b" is invalid/],
  ['a label value of 64 characters', { labels: { team: 'a'.repeat(64) } }, /^spec\.labels\["team"\]/],
  ['a bad annotation key', { annotations: { '-x': 'y' } }, /^spec\.annotations\["-x"\] is not a valid annotation/],
  ['a bad node selector', { nodeSelector: { 'disk type': 'ssd' } }, /^spec\.nodeSelector\["disk type"\]/],
  [
    'a bad service account name',
    { serviceAccount: { enabled: true, name: 'Spice_SA' } },
    /^spec\.serviceAccount\.name "Spice_SA" is not a DNS-1123 subdomain/,
  ],
  [
    'a bad service account annotation',
    { serviceAccount: { enabled: true, create: true, annotations: { 'a b': 'x' } } },
    /^spec\.serviceAccount\.annotations\["a b"\]/,
  ],
];

/** Corner cases the API server accepts: the operator must not refuse them either. */
export const ACCEPTED_BY_THE_API_SERVER: [string, Record<string, unknown>][] = [
  [
    'relaxed env names and prefixes',
    { env: [{ name: '1st.var-name:with spaces', value: 'x' }], envFromSource: [{ prefix: 'my prefix.', configMapRef: { name: 'cm' } }] },
  ],
  [
    'requests equal to limits, written differently',
    {
      resources: {
        requests: { cpu: '500m', memory: '1Gi', 'example.com/gpu': 2 },
        limits: { cpu: '0.5', memory: '1024Mi', 'example.com/gpu': '2' },
      },
    },
  ],
  [
    'label and resource field references',
    {
      env: [
        { name: 'L', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app.kubernetes.io/name']" } } },
        { name: 'M', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
      ],
    },
  ],
  [
    'a small volume, an empty label value, a mixed-case annotation key',
    { volume: { storageRequests: '1Mi' }, labels: { 'example.com/team': '' }, annotations: { 'example.com/Note': 'any text at all' } },
  ],
  [
    'a registry with a port and a path, a tag with a digest',
    { image: { registry: 'localhost:5000/mirror/', name: 'spiceai/spiceai', tag: `1.9.0-models@sha256:${'0'.repeat(64)}` } },
  ],
  ['an IPv6 registry, separators in the name', { image: { registry: '[::1]:5000', name: 'spice__ai/spice--ai.x', tag: 'v1' } }],
  ['a registry in the name', { image: { name: 'ghcr.io/spiceai/spiceai', tag: 'latest' } }],
  ['a service account name that is not used', { serviceAccount: { enabled: false, name: 'Not_Used' } }],
  ['a reserved label (dropped, never written)', { labels: { 'spice.ai/app': 'not a valid value but reserved, so dropped' } }],
];
