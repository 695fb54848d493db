// `spiceai-operator pki`: a CA and node certificates on disk, for spiced
// clusters outside Kubernetes (the files work with spiced's --node-mtls-* flags).
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { UsageError, type Command } from '../usage.ts';
import { wholeNumberFlag } from '../flag-values.ts';

const NAME = /^[A-Za-z0-9_-]+$/;
const defaultDir = () => join(homedir(), '.spice', 'pki');

function prepareDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`);
  chmodSync(dir, 0o700);
}

function refuseOverwrite(paths: string[], force: boolean, consequence: string): void {
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length && !force)
    throw new UsageError(
      `${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace (${consequence})`,
    );
}

function writeSecretFile(path: string, text: string, mode: number): void {
  writeFileSync(path, text, { mode });
  chmodSync(path, mode);
}

export const pkiCommand: Command = {
  name: 'pki',
  summary: 'Create a CA (pki init) and node certificates (pki issue NAME) for spiced clusters outside Kubernetes.',
  usage: 'spiceai-operator pki init [--dir D] [--force] | pki issue NAME [--host H ...] [--dir D] [--days N] [--force]',
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    host: { type: 'string', multiple: true },
    days: { type: 'string', default: '365' },
    force: { type: 'boolean' },
  },
  flags: [
    ['init', 'create ca.crt and ca.key (ECDSA P-256, 10 years)'],
    ['issue NAME', 'create NAME.crt and NAME.key signed by the CA; SANs: localhost, 127.0.0.1 and every --host'],
    ['--dir D', 'directory of the PKI (default ~/.spice/pki; created with mode 0700)'],
    ['--host H', 'issue: DNS name or IP address the node is reached at, e.g. its --node-advertise-address (repeatable)'],
    ['--days N', 'issue: validity in days (default 365; never beyond the CA)'],
    ['--force', 'replace existing files'],
    ['-h, --help', 'show this help'],
  ],
  async run(values, positionals) {
    const [action, name, ...extra] = positionals;
    const dir = resolve((values.dir as string | undefined) ?? defaultDir());
    const force = !!values.force;
    const { createCA, issueLeaf, parseCertificate } = await import('../../../core/pki/index.ts');
    if (action === 'init') {
      if (name) throw new UsageError(`pki init takes no NAME (got ${name})`);
      prepareDir(dir);
      const [crt, key] = [join(dir, 'ca.crt'), join(dir, 'ca.key')];
      refuseOverwrite([crt, key], force, 'certificates the old CA issued will no longer verify');
      const ca = await createCA({ commonName: 'spiceai-operator cluster root CA', organizationalUnit: 'spiceai-operator pki' });
      writeSecretFile(key, ca.keyPem, 0o600);
      writeFileSync(crt, ca.certPem, { mode: 0o644 });
      const info = await parseCertificate(ca.certPem);
      process.stdout.write(`wrote ${crt} and ${key} (valid until ${info.notAfter.toISOString()})\n`);
      return;
    }
    if (action === 'issue') {
      if (!name) throw new UsageError('pki issue needs a NAME, e.g. pki issue scheduler1');
      if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
      if (!NAME.test(name)) throw new UsageError(`invalid NAME ${JSON.stringify(name)}: use letters, digits, hyphens and underscores only`);
      const days = wholeNumberFlag(values, 'days', { min: 1, unit: 'days' });
      const [caCrt, caKey] = [join(dir, 'ca.crt'), join(dir, 'ca.key')];
      if (!existsSync(caCrt) || !existsSync(caKey))
        throw new UsageError(`no CA in ${dir}: run spiceai-operator pki init${values.dir ? ` --dir ${values.dir}` : ''} first`);
      const [crt, key] = [join(dir, `${name}.crt`), join(dir, `${name}.key`)];
      refuseOverwrite([crt, key], force, `the node using ${name}.crt needs the new files`);
      const hosts = (values.host as string[] | undefined) ?? [];
      const dnsNames = ['localhost', ...hosts.filter((h) => !isIP(h))];
      const ipAddresses = ['127.0.0.1', ...hosts.filter((h) => isIP(h))];
      let leaf: Awaited<ReturnType<typeof issueLeaf>>;
      try {
        leaf = await issueLeaf({
          ca: { certPem: readFileSync(caCrt, 'utf8'), keyPem: readFileSync(caKey, 'utf8') },
          commonName: name,
          dnsNames,
          ipAddresses,
          validityDays: days,
        });
      } catch (error) {
        throw new UsageError(`cannot issue ${name}: ${(error as Error).message}`);
      }
      prepareDir(dir);
      writeSecretFile(key, leaf.keyPem!, 0o600);
      writeFileSync(crt, leaf.certPem, { mode: 0o644 });
      process.stdout.write(
        `wrote ${crt} and ${key} (SANs: ${[...dnsNames, ...ipAddresses].join(', ')})\n` +
          `start spiced with: --node-mtls-ca-certificate-file ${caCrt} --node-mtls-certificate-file ${crt} --node-mtls-key-file ${key}\n`,
      );
      return;
    }
    throw new UsageError(action ? `unknown pki action ${action}: use init or issue` : 'pki needs an action: init or issue');
  },
};
