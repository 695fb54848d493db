// Certificates for the local control plane, made with the openssl CLI so the
// test tooling needs no crypto dependency beyond what every dev box has.
//
// Keys are EC P-256 (fast to generate, accepted by every Kubernetes component
// and by Node's TLS); the service-account signing key is RSA because token
// consumers outside Kubernetes most commonly expect RS256.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClientIdentity {
  /** file stem under pki/, e.g. "admin" -> admin.crt/admin.key */
  name: string;
  cn: string;
  orgs: string[];
}

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  saKey: string;
  saPub: string;
  client(name: string): { cert: string; key: string };
}

// Every client is in system:masters: the point of distinct identities is only
// that the audit log can tell the operator's writes from kwok's, the
// scheduler's and the controller manager's.
export const CLIENTS: ClientIdentity[] = [
  { name: 'admin', cn: 'admin', orgs: ['system:masters'] },
  { name: 'kube-controller-manager', cn: 'system:kube-controller-manager', orgs: ['system:masters'] },
  { name: 'kube-scheduler', cn: 'system:kube-scheduler', orgs: ['system:masters'] },
  { name: 'kwok', cn: 'system:kwok-controller', orgs: ['system:masters'] },
  // The API server's identity towards aggregated API servers. Without a
  // request-header CA the controller manager and scheduler log errors about
  // extension-apiserver-authentication forever.
  { name: 'front-proxy-client', cn: 'front-proxy-client', orgs: [] },
];

export const SERVER_SANS = [
  'IP:127.0.0.1',
  'DNS:localhost',
  'IP:10.96.0.1', // first address of --service-cluster-ip-range: the in-cluster "kubernetes" Service
  'DNS:kubernetes',
  'DNS:kubernetes.default',
  'DNS:kubernetes.default.svc',
  'DNS:kubernetes.default.svc.cluster.local',
];

// A private config keeps the result independent of the distro's openssl.cnf
// (which may be missing, or add extensions we do not want).
const OPENSSL_CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
`;

function openssl(dir: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

const ecKeyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function subject(cn: string, orgs: string[] = []): string {
  return `${orgs.map((o) => `/O=${o}`).join('')}/CN=${cn}`;
}

function signLeaf(dir: string, stem: string, subj: string, extensions: string): void {
  openssl(dir, ['req', '-config', 'openssl.cnf', '-new', ...ecKeyArgs, '-keyout', `${stem}.key`, '-out', `${stem}.csr`, '-subj', subj]);
  writeFileSync(join(dir, `${stem}.ext`), `[v3]\n${extensions}`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${stem}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    `0x${randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1')}`,
    '-days',
    '3650',
    '-sha256',
    '-extfile',
    `${stem}.ext`,
    '-extensions',
    'v3',
    '-out',
    `${stem}.crt`,
  ]);
  rmSync(join(dir, `${stem}.csr`));
  rmSync(join(dir, `${stem}.ext`));
}

/** Where the PKI files live, without creating anything. */
export function pkiPaths(dir: string): Pki {
  const p = (f: string) => join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    client: (name) => ({ cert: p(`${name}.crt`), key: p(`${name}.key`) }),
  };
}

/**
 * Creates (or reuses) the PKI under dir. Reuse matters for developers: the
 * kubeconfig's credentials stay valid across `down`/`up`; nothing in it depends
 * on the ports chosen for a particular run.
 */
export function ensurePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 }); // holds the CA key
  const p = (f: string) => join(dir, f);
  const pki = pkiPaths(dir);
  const wanted = [
    pki.caCert,
    pki.caKey,
    pki.serverCert,
    pki.serverKey,
    pki.saKey,
    pki.saPub,
    ...CLIENTS.flatMap((c) => [pki.client(c.name).cert, pki.client(c.name).key]),
  ];
  // The SAN list is part of the reuse key so that changing it here regenerates.
  const stamp = p('sans');
  if (wanted.every(existsSync) && existsSync(stamp) && readFileSync(stamp, 'utf8') === SERVER_SANS.join(',')) {
    return pki;
  }

  writeFileSync(p('openssl.cnf'), OPENSSL_CNF);
  openssl(dir, [
    'req',
    '-config',
    'openssl.cnf',
    '-x509',
    '-new',
    ...ecKeyArgs,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-sha256',
    '-subj',
    '/CN=spiceai-dev-ca',
    '-extensions',
    'ca',
  ]);
  signLeaf(
    dir,
    'apiserver',
    subject('kube-apiserver'),
    `${[
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${SERVER_SANS.join(', ')}`,
    ].join('\n')}\n`,
  );
  for (const c of CLIENTS) {
    signLeaf(
      dir,
      c.name,
      subject(c.cn, c.orgs),
      `${[
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = clientAuth',
      ].join('\n')}\n`,
    );
  }
  openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key']);
  openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  writeFileSync(stamp, SERVER_SANS.join(','));
  return pki;
}

/** A kubeconfig with everything embedded, so it can be copied or mounted alone. */
export function kubeconfigYaml(opts: { server: string; caCert: string; cert: string; key: string; context: string; user: string }): string {
  const b64 = (f: string) => readFileSync(f).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- name: ${opts.context}
  cluster:
    server: ${opts.server}
    certificate-authority-data: ${b64(opts.caCert)}
users:
- name: ${opts.user}
  user:
    client-certificate-data: ${b64(opts.cert)}
    client-key-data: ${b64(opts.key)}
contexts:
- name: ${opts.context}
  context:
    cluster: ${opts.context}
    user: ${opts.user}
current-context: ${opts.context}
`;
}
