import { dirname, isAbsolute, relative, resolve } from 'node:path';

/**
 * Finds references from a repository file to something outside the repository: the team's shared folder
 * beside the checkout, this machine's work folders, design notes that live only there, and relative paths
 * that climb out of the checkout. A clone must build, test and read without any of them (issue 12); design
 * notes live in docs/design/.
 */
export interface OutsideReference {
  line: number;
  text: string;
  why: string;
}

/** Files that may name the one outside resource the project knows: the optional third-party MIME corpus. */
export const CORPUS_LOCATION = '../shared/corpus/mime';

const RULES: { pattern: RegExp; why: string }[] = [
  {
    pattern: /(?:\.\.\/)+shared\b|\bshared\/(?:design|corpus|bicep-types|hooks)\b|'\.\.',\s*'shared'/,
    why: "the team's shared folder beside the checkout",
  },
  { pattern: /\/work\/(?:shared|main|wt)\b/, why: 'a folder of this build machine' },
  {
    pattern: /(?<!design\/)\b(?:platform-facts|toolchain-notes|architecture\.md|style\.md|smtp-cases\.md)/,
    why: 'a design note outside the repository (cite docs/design/… instead)',
  },
];

/** Relative paths ("../x", "../../y") in the text; checked against the file's own folder. */
const RELATIVE_PATH = /(?<![\w.])((?:\.\.\/)+)[\w.-]/g;

/**
 * The outside references of one file. `allowCorpus` lets the file name CORPUS_LOCATION (and nothing else
 * outside); files under docs/design/ may name their sibling notes.
 */
export function outsideReferences(
  repoRoot: string,
  file: string,
  text: string,
  opts: { allowCorpus?: boolean } = {},
): OutsideReference[] {
  const found: OutsideReference[] = [];
  const inDesign = file.startsWith('docs/design/');
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = opts.allowCorpus ? raw.split(CORPUS_LOCATION).join('') : raw;
    for (const { pattern, why } of RULES) {
      if (inDesign && why.startsWith('a design note')) continue;
      if (pattern.test(line)) found.push({ line: i + 1, text: raw.trim(), why });
    }
    for (const m of line.matchAll(RELATIVE_PATH)) {
      const target = resolve(repoRoot, dirname(file), m[1] as string);
      const rel = relative(repoRoot, target);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        found.push({ line: i + 1, text: raw.trim(), why: 'a relative path that leaves the repository' });
      }
    }
  }
  return found;
}
