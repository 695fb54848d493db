// Where the API server dials a webhook the operator serves: through a
// Service (its DNS names) or a URL (its host), and the names the serving
// certificate must therefore carry.

/** The URL with port 0 replaced by the bound port. */
export function resolveWebhookUrl(url: string, port: number): string {
  const u = new URL(url);
  if (u.port === '0') u.port = String(port);
  return u.toString();
}

/** DNS names the API server may dial: the Service, and the URL's host when registering by URL. */
export function servingNames(o: { serviceName: string; operatorNamespace: string; clusterDomain: string; url?: string }): {
  dnsNames: string[];
  ipAddresses: string[];
} {
  const svc = `${o.serviceName}.${o.operatorNamespace}`;
  const dnsNames = [o.serviceName, svc, `${svc}.svc`, `${svc}.svc.${o.clusterDomain}`];
  const ipAddresses: string[] = [];
  if (o.url) {
    const host = new URL(o.url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (/^[\d.]+$/.test(host) || host.includes(':')) ipAddresses.push(host);
    else if (!dnsNames.includes(host)) dnsNames.push(host);
  }
  return { dnsNames, ipAddresses };
}
