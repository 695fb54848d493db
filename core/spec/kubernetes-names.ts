// The Kubernetes API server's rules for names, label keys and values, and the
// few strings of a pod it checks by pattern, as written in k8s.io/apimachinery
// pkg/util/validation/validation.go and k8s.io/kubernetes
// pkg/apis/core/validation/validation.go (v1.34.4). Each check returns the
// problem in words, or undefined; they are never stricter than the API
// server, so nothing it would accept is refused here.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** A DNS-1123 label of at most 63 characters (namespaces, Service names). */
export const isDns1123Label = (value: string) => value.length <= 63 && DNS1123_LABEL.test(value);
/** A DNS-1123 subdomain of at most 253 characters (most object names). */
export const isDns1123Subdomain = (value: string) => value.length <= 253 && DNS1123_SUBDOMAIN.test(value);

export const LABEL_VALUE_MAX = 63;
export const DNS_LABEL_MAX = 63;
export const DNS_SUBDOMAIN_MAX = 253;
/** metadata.annotations, all keys and values together (TotalAnnotationSizeLimitB). */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;

const quoted = (s: string) => JSON.stringify(s);

export function dns1123LabelProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > DNS_LABEL_MAX || !DNS1123_LABEL.test(value)) {
    return `${quoted(value)} is not a DNS-1123 label: at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit`;
  }
  return undefined;
}

export function dns1035LabelProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > DNS_LABEL_MAX || !DNS1035_LABEL.test(value)) {
    return `${quoted(value)} is not a DNS-1035 label: at most 63 lower-case letters, digits and '-', starting with a letter and ending with a letter or digit`;
  }
  return undefined;
}

export function dnsSubdomainProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > DNS_SUBDOMAIN_MAX || !DNS1123_SUBDOMAIN.test(value)) {
    return `${quoted(value)} is not a DNS-1123 subdomain: at most 253 lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of 1-63 characters (IsQualifiedName). */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || dnsSubdomainProblem(prefix))) {
    return `key ${quoted(key)} has an invalid prefix: it must be a lower-case DNS subdomain such as example.com`;
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return `key ${quoted(key)} is invalid: the name${prefix !== undefined ? ' after the prefix' : ''} must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > LABEL_VALUE_MAX || !QUALIFIED_NAME.test(value)) {
    return `value ${quoted(value)} is invalid: a label value is at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Environment variable names and envFrom prefixes: printable ASCII but '=' (IsRelaxedEnvVarName, GA and locked on since 1.34). */
export function envVarNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code > 0x7e || ch === '=')
      return `${quoted(name)} is not a valid environment variable name: only printable ASCII characters other than '=' are allowed`;
  }
  return undefined;
}

/** A key of a ConfigMap or Secret (IsConfigMapKey). */
export function configMapKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > DNS_SUBDOMAIN_MAX || !CONFIG_KEY.test(key)) {
    return `${quoted(key)} is not a valid ConfigMap or Secret key: at most 253 letters, digits, '-', '_' or '.'`;
  }
  return undefined;
}
