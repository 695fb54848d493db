// Issues node certificates with core/pki and with the openssl CLI, and
// compares the wall time. Each certificate is a fresh P-256 key plus a leaf
// signed by the same CA with the same extensions, written out as PEM.
//
//   node --import tsx bench/pki.ts [count]      (default 100; PKI_BENCH_N also works)
//
// A script, not a test: it asserts nothing about the times. It does check
// that the last certificate of each run verifies with `openssl verify`.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueLeaf, loadCA, type IssueLeafOptions } from '../core/pki/index.ts';

const count = Number(process.argv[2] ?? process.env.PKI_BENCH_N ?? 100);
const WARMUP = 3;
const dir = mkdtempSync(join(tmpdir(), 'pki-bench-'));

const dnsNames = (i: number) => [`node-${i}.nodes.spice.svc.cluster.local`, 'nodes.spice.svc.cluster.local', 'localhost'];
const ipAddresses = ['127.0.0.1'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function ours(ca: IssueLeafOptions['ca']): Promise<{ ms: number; last: { certPem: string; keyPem?: string } }> {
  for (let i = 0; i < WARMUP; i++) await issueLeaf({ ca, commonName: `warm-${i}`, dnsNames: dnsNames(i), ipAddresses });
  let last = { certPem: '' } as { certPem: string; keyPem?: string };
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) last = await issueLeaf({ ca, commonName: `node-${i}`, dnsNames: dnsNames(i), ipAddresses });
  return { ms: ms(start), last };
}

function viaOpenssl(): { ms: number; last: { certPem: string; keyPem: string } } {
  const one = (name: string, i: number) => {
    writeFileSync(
      join(dir, 'leaf.ext'),
      [
        '[v3]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth, clientAuth',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        `subjectAltName = ${[...dnsNames(i).map((d) => `DNS:${d}`), ...ipAddresses.map((ip) => `IP:${ip}`)].join(', ')}`,
        '',
      ].join('\n'),
    );
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf.key']);
    openssl(['req', '-new', '-config', 'req.cnf', '-key', 'leaf.key', '-subj', `/CN=${name}`, '-out', 'leaf.csr']);
    openssl([
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      '365',
      '-sha256',
      '-extfile',
      'leaf.ext',
      '-extensions',
      'v3',
      '-out',
      'leaf.crt',
    ]);
    return { certPem: readFileSync(join(dir, 'leaf.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'leaf.key'), 'utf8') };
  };
  for (let i = 0; i < WARMUP; i++) one(`warm-${i}`, i);
  let last = { certPem: '', keyPem: '' };
  const start = process.hrtime.bigint();
  for (let i = 0; i < count; i++) last = one(`node-${i}`, i);
  return { ms: ms(start), last };
}

function verifies(certPem: string): boolean {
  writeFileSync(join(dir, 'check.crt'), certPem);
  try {
    openssl(['verify', '-x509_strict', '-CAfile', 'ca.crt', 'check.crt']);
    return true;
  } catch {
    return false;
  }
}

try {
  const ca = await createCA({ commonName: 'bench CA' });
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  writeFileSync(join(dir, 'ca.key'), ca.keyPem);
  writeFileSync(join(dir, 'req.cnf'), '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n');

  const plain = await ours(ca);
  const loaded = await ours(await loadCA(ca));
  const cli = viaOpenssl();

  const version = execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim();
  const row = (label: string, total: number) =>
    `  ${label.padEnd(44)} ${total.toFixed(0).padStart(7)} ms   ${(total / count).toFixed(2).padStart(7)} ms/cert`;
  console.log(`PKI bench: ${count} node certificates (P-256 key + signed leaf, PEM out), ${WARMUP} warm-up each`);
  console.log(`  node ${process.version}, ${version}`);
  console.log(row('core/pki issueLeaf({ ca: { certPem, keyPem } })', plain.ms));
  console.log(row('core/pki issueLeaf({ ca: loadCA(...) })', loaded.ms));
  console.log(row('openssl CLI genpkey + req + x509 -req', cli.ms));
  console.log(
    `  ratio ours/openssl: ${(plain.ms / cli.ms).toFixed(3)} (PEM CA per call), ${(loaded.ms / cli.ms).toFixed(3)} (loaded CA); target <= 0.5`,
  );
  console.log(
    `  openssl verify of the last certificate: core/pki ${verifies(plain.last.certPem) ? 'OK' : 'FAILED'}, openssl ${verifies(cli.last.certPem) ? 'OK' : 'FAILED'}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
