// Run by Deno for test/conformance/spiced-cluster-pki.ts: reads handshake
// cases from stdin ({ca, cert, key, serverName}), and for each one serves cert
// and key on loopback and connects trusting only ca, with rustls (Deno's TLS).
// Prints, per case, null when the handshake completed or rustls's error.
declare const Deno: any;
export {};

interface Case {
  ca: string;
  cert: string;
  key: string;
  serverName: string | null;
}

const cases: Case[] = JSON.parse(await new Response(Deno.stdin.readable).text());
const results: (string | null)[] = [];

for (const c of cases) {
  let listener: any;
  try {
    listener = Deno.listenTls({ hostname: '127.0.0.1', port: 0, cert: c.cert, key: c.key });
  } catch (error) {
    results.push(`the presenter's certificate and key cannot serve: ${(error as Error).message}`);
    continue;
  }
  const served = (async () => {
    try {
      const conn = await listener.accept();
      try {
        await conn.handshake();
      } catch {
        // the client's verdict is what counts
      }
      conn.close();
    } catch {
      // listener closed
    }
  })();
  let error: string | null = null;
  try {
    const tcp = await Deno.connect({ hostname: '127.0.0.1', port: listener.addr.port });
    const tls = await Deno.startTls(tcp, {
      hostname: c.serverName ?? '127.0.0.1',
      caCerts: [c.ca],
      unsafelyDisableHostnameVerification: c.serverName === null,
    });
    await tls.handshake();
    tls.close();
  } catch (e) {
    error = (e as Error).message;
  }
  listener.close();
  await served;
  results.push(error);
}

console.log(JSON.stringify(results));
