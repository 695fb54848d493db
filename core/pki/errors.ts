// Errors a caller can act on (bad input, a corrupt Secret, a CA that cannot
// sign) are PkiError, so handlers can report them as terminal user errors
// instead of retrying.
export class PkiError extends Error {
  override readonly name = 'PkiError';
}
