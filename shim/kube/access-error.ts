// The cluster cannot be used as asked: no kubeconfig, no such context, an API
// server that cannot be reached or refuses, a CRD that never becomes
// Established. One line a user can act on; the CLI prints it and exits 2, as
// for a usage error. (An answer of the API server to one request is an
// ApiError, transport.ts.)
export class KubeAccessError extends Error {
  override readonly name = 'KubeAccessError';
}
