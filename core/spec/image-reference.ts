// Image references as the kubelet parses them (github.com/distribution/reference
// v0.6.0, regexp.go): the API server only refuses an empty image or one with
// surrounding whitespace, so a malformed reference would otherwise be accepted
// and leave every pod in InvalidImageName. The operator composes
// `<registry>/<name>:<tag>`, so each part is checked where the user wrote it.
import type { SpecProblem } from './normalize.ts';

const alphanumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainAndPort = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';

const REGISTRY = new RegExp(`^${domainAndPort}(?:/${remoteName})?$`);
const NAME_WITH_DOMAIN = new RegExp(`^(?:${domainAndPort}/)?${remoteName}$`);
const NAME = new RegExp(`^${remoteName}$`);
const TAG = new RegExp(`^${tag}(?:@${digest})?$`);
/** NameTotalLengthMax: the repository part (registry and name). */
export const REPOSITORY_MAX = 255;

export interface ImageParts {
  registry?: string;
  name: string;
  tag: string;
}

export function imageProblems(image: ImageParts, prefix: string): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const registry = image.registry?.replace(/\/+$/, '');
  if (registry !== undefined && registry !== '' && !REGISTRY.test(registry)) {
    problems.push({
      field: `${prefix}.registry`,
      message: `${JSON.stringify(image.registry)} is not a registry host (e.g. ghcr.io, registry.example.com:5000, or with a path: ghcr.io/acme)`,
    });
  }
  if (!(registry ? NAME : NAME_WITH_DOMAIN).test(image.name)) {
    problems.push({
      field: `${prefix}.name`,
      message: `${JSON.stringify(image.name)} is not an image repository name: lower-case letters and digits separated by '.', '_', '__', '-' or '/' (e.g. spiceai/spiceai)`,
    });
  }
  if (!TAG.test(image.tag)) {
    problems.push({
      field: `${prefix}.tag`,
      message: `${JSON.stringify(image.tag)} is not an image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-', optionally followed by @sha256:<digest>`,
    });
  }
  const repository = registry ? `${registry}/${image.name}` : image.name;
  if (repository.length > REPOSITORY_MAX) {
    problems.push({
      field: `${prefix}.name`,
      message: `the repository ${registry ? 'with its registry ' : ''}is ${repository.length} characters; image references allow at most ${REPOSITORY_MAX}`,
    });
  }
  return problems;
}
