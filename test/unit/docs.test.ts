// The README and docs/ stay inside the repository and point at what exists:
// - every relative link (and its #anchor) resolves to a file in the repository,
//   never above its root (the repository is what a reader has);
// - every repository path written in backticks in docs/ and the README (e.g.
//   `core/pki/leaf-policy.ts`) exists, and every path in architecture.md's
//   table "To change a rule, open this file" exists, so the map follows moves.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = resolve(new URL('../..', import.meta.url).pathname);

/** The Markdown files this test keeps honest: README.md and every docs/*.md. */
function documents(): string[] {
  const docs = existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`)
    : [];
  return ['README.md', ...docs.sort()];
}

/** Markdown text without fenced code blocks (kept as empty lines, so line numbers hold). */
function prose(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence) {
      if (open && open[1]![0] === fence[0] && open[1]!.length >= fence.length) fence = undefined;
      return '';
    }
    if (open) {
      fence = open[1];
      return '';
    }
    return line;
  });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-', duplicates numbered. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n ? `${slug}-${n}` : slug);
  }
  return out;
}

/** Link targets outside code: inline links and images, and reference definitions, with their line. */
export function links(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  prose(markdown).forEach((text, i) => {
    const line = text.replace(/`+[^`]*`+/g, ''); // inline code is not a link
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)) out.push({ target: m[1]!, line: i + 1 });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (definition) out.push({ target: definition[1]!, line: i + 1 });
  });
  return out;
}

/**
 * What is wrong with a link from the file `from` (repository-relative), or undefined. Links with a
 * scheme (https:, mailto:) are left alone; everything else must stay inside `repo` and exist.
 */
export function linkProblem(
  repo: string,
  from: string,
  target: string,
  read = (path: string) => readFileSync(path, 'utf8'),
): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  if (target === '') return 'an empty link';
  if (target.startsWith('/')) return 'an absolute path (links are relative to the file)';
  const [pathPart, fragment] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(pathPart.split('?')[0]!);
  const file = path ? resolve(dirname(join(repo, from)), path) : join(repo, from);
  const inside = relative(repo, file);
  if (inside === '..' || inside.startsWith(`..${sep}`)) return `leaves the repository (${inside})`;
  if (!existsSync(file)) return `${inside} does not exist`;
  if (fragment !== undefined && file.endsWith('.md') && statSync(file).isFile() && !anchors(read(file)).has(fragment.toLowerCase())) {
    return `${inside} has no heading #${fragment}`;
  }
  return undefined;
}

/** The top-level entries of the repository (tracked by git), which a path in backticks must start with. */
function topLevel(): Set<string> {
  const git = spawnSync('git', ['ls-files'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (git.status === 0 && git.stdout.trim())
    return new Set(
      git.stdout
        .split('\n')
        .filter(Boolean)
        .map((p) => p.split('/')[0]!),
    );
  return new Set(readdirSync(root).filter((e) => !['node_modules', 'dist', '.cache', '.git'].includes(e)));
}

/** Repository paths written in backticks (`core/labels.ts`, `test/conformance/`), with their line. */
export function backtickedPaths(markdown: string, tops: Set<string>): { path: string; line: number }[] {
  const out: { path: string; line: number }[] = [];
  prose(markdown).forEach((line, i) => {
    for (const m of line.matchAll(/`([^`\s]+)`/g)) {
      const path = m[1]!;
      if (!/^[\w.-]+(\/[\w.-]+)*\/?$/.test(path) || !path.includes('/')) continue;
      if (!tops.has(path.split('/')[0]!)) continue;
      out.push({ path, line: i + 1 });
    }
  });
  return out;
}

/** Every backticked token in the last column of architecture.md's "To change a rule" table. */
export function tablePaths(markdown: string): { path: string; line: number }[] {
  const lines = prose(markdown);
  const start = lines.findIndex((l) => /^##\s+To change a rule/i.test(l));
  if (start < 0) return [];
  const out: { path: string; line: number }[] = [];
  for (let i = start + 1; i < lines.length && !/^##\s/.test(lines[i]!); i++) {
    const row = lines[i]!;
    if (!row.startsWith('|') || /^\|\s*-/.test(row)) continue;
    const cells = row.split('|').slice(1, -1);
    const open = cells[cells.length - 1] ?? '';
    for (const m of open.matchAll(/`([^`]+)`/g)) out.push({ path: m[1]!, line: i + 1 });
  }
  return out.filter((p) => p.path !== 'open');
}

// The checker itself, on small documents: each kind of fault is found.
test('the checker finds a missing file, a link above the root, a missing heading, an absolute path', () => {
  const repo = root;
  assert.is(linkProblem(repo, 'README.md', 'docs/architecture.md'), undefined);
  assert.is(linkProblem(repo, 'docs/design.md', '../README.md#tests'), undefined);
  assert.is(linkProblem(repo, 'README.md', 'https://spiceai.org'), undefined);
  assert.match(linkProblem(repo, 'README.md', 'docs/no-such-file.md') ?? '', 'does not exist');
  assert.match(linkProblem(repo, 'README.md', '../shared/DESIGN.md') ?? '', 'leaves the repository');
  assert.match(linkProblem(repo, 'docs/design.md', '../../x.md') ?? '', 'leaves the repository');
  assert.match(linkProblem(repo, 'README.md', '#no-such-heading') ?? '', 'no heading #no-such-heading');
  assert.match(linkProblem(repo, 'README.md', '/README.md') ?? '', 'absolute');
});

test('links are read from prose only, and anchors as GitHub makes them', () => {
  const md = [
    '# A `b` title',
    'see [x](one.md) and `[y](two.md)`',
    '```',
    '[z](three.md)',
    '# not a heading',
    '```',
    '[r]: four.md',
    '## A b title',
  ].join('\n');
  assert.equal(
    links(md).map((l) => l.target),
    ['one.md', 'four.md'],
  );
  assert.equal([...anchors(md)], ['a-b-title', 'a-b-title-1']);
  const table = [
    '## To change a rule, open this file',
    '| to change | open |',
    '|---|---|',
    '| a rule | `core/x.ts`, `shim/y.ts` |',
    '## Next',
    '| z | `w/v.ts` |',
  ].join('\n');
  assert.equal(
    tablePaths(table).map((p) => p.path),
    ['core/x.ts', 'shim/y.ts'],
  );
});

test('README.md and docs/*.md link only to files (and headings) that exist in the repository', () => {
  const problems: string[] = [];
  for (const doc of documents()) {
    for (const { target, line } of links(readFileSync(join(root, doc), 'utf8'))) {
      const problem = linkProblem(root, doc, target);
      if (problem) problems.push(`${doc}:${line}: (${target}) ${problem}`);
    }
  }
  assert.equal(problems, []);
});

test("every path in architecture.md's table, and every repository path in backticks in the docs, exists", () => {
  const architecture = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
  const table = tablePaths(architecture);
  assert.ok(table.length >= 30, `the table names ${table.length} paths`);
  const problems = table
    .filter(({ path }) => !existsSync(join(root, path)))
    .map(({ path, line }) => `docs/architecture.md:${line}: ${path}`);
  const tops = topLevel();
  for (const doc of documents()) {
    for (const { path, line } of backtickedPaths(readFileSync(join(root, doc), 'utf8'), tops)) {
      if (!existsSync(join(root, path))) problems.push(`${doc}:${line}: ${path}`);
    }
  }
  assert.equal([...new Set(problems)], [], 'paths that do not exist');
});

test.run();
