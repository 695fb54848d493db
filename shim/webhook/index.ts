// The webhooks the operator serves: a generic serving-certificate store, a
// generic caBundle keeper, the certificate rotation timer, and the sidecar
// injector built from them.
export { ensureServingCertificate, type CertificateStoreOptions, type ServingCertificate } from './serving-certificate-store.ts';
export {
  caBundleKeeper,
  webhookConfigurationTarget,
  webhooksMatch,
  type CaBundleKeeper,
  type CaBundleKeeperOptions,
  type CaBundleTarget,
} from './ca-bundle.ts';
export { CHECK_INTERVAL_MS, rotateCertificate, type CertificateRotation, type CertificateRotationOptions } from './certificate-rotation.ts';
export { resolveWebhookUrl, servingNames } from './endpoint.ts';
export { createWebhookHandler, serveInjector, type InjectorServer } from './injector-server.ts';
export {
  DEFAULT_WEBHOOK_SECRET,
  removeWebhookConfiguration,
  startSidecarInjector,
  startWebhook,
  WEBHOOK_FIELD_MANAGER,
  webhookCertificateStore,
  type RunningWebhook,
  type SidecarInjectorOptions,
  type WebhookOptions,
} from './injector.ts';
