// A CA, a hook server certificate for 127.0.0.1, and a client certificate for
// the operator, written to files as `serve` and `run` read them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCA, issueLeaf } from '../../core/pki/index.ts';

export interface HookTlsFiles {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second CA, which issued nothing the others trust. */
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
  pem: { ca: string; clientCert: string; clientKey: string; otherClientCert: string; otherClientKey: string };
}

export async function hookTlsFiles(): Promise<HookTlsFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'hook-tls-'));
  const ca = await createCA({ commonName: 'hook-test-ca', validityDays: 30 });
  const server = await issueLeaf({ ca, commonName: 'hook', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], validityDays: 30 });
  const client = await issueLeaf({ ca, commonName: 'spiceai-operator', dnsNames: ['spiceai-operator'], ipAddresses: [], validityDays: 30 });
  const other = await createCA({ commonName: 'other-ca', validityDays: 30 });
  const otherClient = await issueLeaf({ ca: other, commonName: 'intruder', dnsNames: ['intruder'], ipAddresses: [], validityDays: 30 });
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  return {
    dir,
    caCert: write('ca.crt', ca.certPem),
    serverCert: write('tls.crt', server.certPem),
    serverKey: write('tls.key', server.keyPem!),
    clientCert: write('client.crt', client.certPem),
    clientKey: write('client.key', client.keyPem!),
    otherCaCert: write('other-ca.crt', other.certPem),
    otherClientCert: write('other-client.crt', otherClient.certPem),
    otherClientKey: write('other-client.key', otherClient.keyPem!),
    pem: {
      ca: ca.certPem,
      clientCert: client.certPem,
      clientKey: client.keyPem!,
      otherClientCert: otherClient.certPem,
      otherClientKey: otherClient.keyPem!,
    },
  };
}

/**
 * `run`'s flags for calling hooks served with these files over mutual TLS: the CA, the operator's
 * client certificate and key, and a deadline well above a call's time on a busy 2-core machine
 * (first calls to a fresh hook server took over 8 s at a load average of 27).
 */
export function hookClientArgs(files: HookTlsFiles): string[] {
  return [
    '--handler-ca',
    files.caCert,
    '--handler-client-cert',
    files.clientCert,
    '--handler-client-key',
    files.clientKey,
    '--handler-timeout-seconds',
    '20',
  ];
}
