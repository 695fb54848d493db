// The Spicepods the tests use as fixtures, found in the test sources
// themselves so that a new fixture is checked without anyone registering it:
// every object literal with `kind: 'Spicepod'` and every string literal with
// `kind: Spicepod` (a Spicepod written as YAML). A fixture must be a literal
// (no variables inside), so that it can be read here; one that cannot be read
// is reported, not skipped. A fixture that is wrong on purpose (to test a
// refusal) carries the comment `conformance: refused` on its line, and must
// then be one spiced's schema refuses.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const TEST_DIR = new URL('../', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

export interface Fixture {
  /** file:line */
  at: string;
  source: string;
  /** The Spicepod, or undefined when the literal could not be read. */
  spicepod?: unknown;
  /** Marked `conformance: refused`: a Spicepod spiced must refuse. */
  refused?: boolean;
  error?: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'node_modules' || entry === 'conformance' ? [] : sourceFiles(path);
    // The kit's own tests hold Spicepods spiced refuses on purpose.
    return path.endsWith('.ts') && !entry.startsWith('conformance-') ? [path] : [];
  });
}

/** The end of the string literal that starts at `start` (a quote), or -1. */
function stringEnd(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
    else if (text[i] === '\n' && quote !== '`') return -1;
  }
  return -1;
}

/** The `{ ... }` literal enclosing position `at`: braces matched, strings skipped. */
function enclosingObject(text: string, at: number): [number, number] | undefined {
  let depth = 0;
  let start = -1;
  for (let i = at; i >= 0; i--) {
    if (text[i] === '}') depth++;
    else if (text[i] === '{') {
      if (depth === 0) {
        start = i;
        break;
      }
      depth--;
    }
  }
  if (start < 0) return undefined;
  depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"' || c === '`') {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      i = end;
    } else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return [start, i + 1];
  }
  return undefined;
}

function evaluateLiteral(source: string): unknown {
  // Literals only: any identifier inside (a variable, a call) makes this throw.
  return new Function(`"use strict"; return (${source});`)();
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

export const REFUSED_MARKER = 'conformance: refused';

function markedRefused(text: string, index: number): boolean {
  const lines = text.split('\n');
  const line = lineOf(text, index) - 1;
  return !!lines[line]?.includes(REFUSED_MARKER);
}

/** The Spicepod literals of one source text. */
export function fixturesIn(text: string, name: string): Fixture[] {
  const fixtures: Fixture[] = [];
  const seen = new Set<number>();
  for (const match of text.matchAll(/kind:\s*'Spicepod'/g)) {
    const range = enclosingObject(text, match.index!);
    const at = `${name}:${lineOf(text, match.index!)}`;
    if (!range) {
      fixtures.push({ at, source: match[0], error: 'no enclosing object literal found' });
      continue;
    }
    if (seen.has(range[0])) continue;
    seen.add(range[0]);
    const source = text.slice(range[0], range[1]);
    try {
      fixtures.push({ at, source, spicepod: evaluateLiteral(source), refused: markedRefused(text, match.index!) });
    } catch (error) {
      fixtures.push({ at, source, error: `not a literal: ${(error as Error).message}` });
    }
  }
  // Spicepods written as YAML inside a string literal.
  for (const match of text.matchAll(/(['"`])(?:(?!\1)[^\\\n]|\\.)*kind: Spicepod(?:(?!\1)[^\\\n]|\\.)*\1/g)) {
    const at = `${name}:${lineOf(text, match.index!)}`;
    try {
      const yaml = evaluateLiteral(match[0]);
      fixtures.push({ at, source: match[0], spicepod: parseYaml(String(yaml)), refused: markedRefused(text, match.index!) });
    } catch (error) {
      fixtures.push({ at, source: match[0], error: `not a YAML Spicepod literal: ${(error as Error).message}` });
    }
  }
  return fixtures;
}

/** Every Spicepod fixture of the test sources (the kit itself and its own tests excluded). */
export function spicepodFixtures(): Fixture[] {
  return sourceFiles(TEST_DIR)
    .sort()
    .flatMap((file) => fixturesIn(readFileSync(file, 'utf8'), relative(ROOT, file)));
}
