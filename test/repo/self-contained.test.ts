import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { outsideReferences } from './outside-references';

/**
 * A clone builds, tests and reads without anything beside it (issue 12): no file the project tracks refers to
 * a path outside the repository. Checked over every tracked or new (not ignored) source, script, template,
 * config and document; the lockfile and the vendored type data are data, not references.
 */
const REPO_ROOT = join(__dirname, '..', '..');
const CHECKED = /\.(?:[cm]?[jt]s|sh|ps1|psm1|bicep|json|ya?ml|md)$|(?:^|\/)run$/;
const SKIPPED = [
  /^package-lock\.json$/,
  /^infra\/tools\/bicep-types\//,
  /^infra\/azuredeploy\.json$/,
  /^test\/repo\//, // the check itself, whose negative control spells out what it must catch
];

/**
 * The places that name where the optional MIME corpus lives (third-party files under their own licences that
 * stay beside the checkout; the `mime-corpus` test group). Nothing else may name it.
 */
const CORPUS_NAMERS = new Set([
  'README.md',
  'scripts/setup-test-tools.sh',
  'test/fixtures/mime/README.md',
  'test/helpers/mime-corpus.ts',
  'test/helpers/tool-probe.ts',
]);

function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out
    .split('\0')
    .filter((f) => f && CHECKED.test(f) && !SKIPPED.some((s) => s.test(f)) && existsSync(join(REPO_ROOT, f)));
}

describe('the repository is self-contained', () => {
  it('no tracked file refers to a path outside the repository', () => {
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(300);
    const found = files.flatMap((file) =>
      outsideReferences(REPO_ROOT, file, readFileSync(join(REPO_ROOT, file), 'utf8'), {
        allowCorpus: CORPUS_NAMERS.has(file),
      }).map((r) => `${file}:${r.line}: ${r.why}: ${r.text}`),
    );
    expect(found).toEqual([]);
  });

  it('the check finds each kind of outside reference (negative control)', () => {
    const check = (file: string, text: string, allowCorpus = false) =>
      outsideReferences(REPO_ROOT, file, text, { allowCorpus }).map((r) => r.why);
    expect(check('core/x.ts', "const dir = resolve(REPO_ROOT, '../shared/bicep-types');")).toEqual([
      "the team's shared folder beside the checkout",
    ]);
    expect(check('core/x.ts', "join(REPO_ROOT, '..', 'shared', 'corpus')")).toHaveLength(1);
    expect(check('core/x.ts', '// see /work/shared/design/architecture.md')).toContain(
      'a folder of this build machine',
    );
    expect(check('functions/x.ts', ' * Graph limits (platform-facts §A3).')).toHaveLength(1);
    expect(check('edge-listener/x.ts', ' * (toolchain-notes.md: 9.8 msg/s)')).toHaveLength(1);
    expect(check('test/x.test.ts', '/** smtp-cases.md §1 */')).toHaveLength(1);
    expect(check('docs/x.md', 'see [notes](../../outside/notes.md)')).toEqual([
      'a relative path that leaves the repository',
    ]);
    expect(check('test/x.ts', "readFileSync('../shared/corpus/mime/a.eml')")).toHaveLength(1);
    // What is fine: in-repo citations, relative paths that stay inside, the corpus where it is allowed.
    expect(check('functions/x.ts', ' * (docs/design/platform-facts.md §A3)')).toEqual([]);
    expect(check('docs/design/flow.md', 'platform-facts.md §A1, [wire](wire-contract.md)')).toEqual([]);
    expect(
      check('infra/tools/bicep-types/README.md', '[doc](../../../docs/design/platform-facts.md)'),
    ).toEqual([]);
    expect(check('test/helpers/x.ts', "'../shared/corpus/mime'", true)).toEqual([]);
    expect(check('test/helpers/x.ts', "'../shared/design'", true)).toHaveLength(1);
  });
});
