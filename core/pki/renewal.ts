// When to renew: at 2/3 of the certificate's actual lifetime (cert-manager's
// default), truncated to whole seconds so a requeue at that moment does not
// land a fraction of a second early and find nothing to do.

export function renewalTime(notBefore: Date, notAfter: Date): Date {
  const start = notBefore.getTime();
  const lifetime = Math.max(0, notAfter.getTime() - start);
  return new Date(Math.floor((start + (lifetime * 2) / 3) / 1000) * 1000);
}

export function needsRenewal(options: { notBefore: Date; notAfter: Date; now?: Date }): boolean {
  const now = options.now ?? new Date();
  return now.getTime() >= renewalTime(options.notBefore, options.notAfter).getTime();
}
