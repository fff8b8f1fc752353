import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

import { CI_TOOLS_DIR } from '../../scripts/ci-tools-dir';

/**
 * Finds what the test groups need (test/helpers/tool-groups.ts): a system tool from Debian, a tool from
 * NuGet under .ci/tools, or the third-party MIME corpus beside the checkout. No vitest import here: the
 * closing-line reporter (test/reporters/not-run-groups.ts) runs in vitest's main process and reads this too.
 *
 * Overrides for trying a newcomer's machine: BRIDGE_TEST_TOOL_PATH replaces the directories searched for
 * system tools (default: PATH, then the sbin directories where Debian puts nginx and smtp-source, which a
 * non-root PATH lacks); BRIDGE_TOOLS_DIR moves .ci/tools; BRIDGE_TEST_CORPUS_DIR moves the corpus.
 */
export type ToolGroup =
  'swaks' | 'smtp-source' | 'chromium' | 'nginx' | 'strace' | 'unzip' | 'bicep' | 'pwsh' | 'mime-corpus';

export const TOOL_GROUPS: readonly ToolGroup[] = [
  'swaks',
  'smtp-source',
  'chromium',
  'nginx',
  'strace',
  'unzip',
  'bicep',
  'pwsh',
  'mime-corpus',
];

/** The one command that installs what the groups need (README.md, "Tests"). */
export const SETUP_COMMAND = 'npm run setup:test-tools';

const REPO_ROOT = resolve(__dirname, '..', '..');

/** The team's MIME corpus (third-party files under their own licences): beside the checkout, never in it. */
const DEFAULT_CORPUS_DIR = resolve(REPO_ROOT, '../shared/corpus/mime');

export interface Probe {
  /** Absolute path of the executable or folder, when present. */
  path?: string;
  /** What is missing, for the placeholder's name and the failure. */
  missing: string;
}

function searchDirs(): string[] {
  const override = process.env.BRIDGE_TEST_TOOL_PATH;
  if (override !== undefined) return override.split(delimiter).filter(Boolean);
  const path = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...path, '/usr/local/sbin', '/usr/sbin', '/sbin'];
}

function findExecutable(name: string): string | undefined {
  for (const dir of searchDirs()) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function systemTool(name: string, debianPackage: string): Probe {
  return { path: findExecutable(name), missing: `${name} not found (Debian package ${debianPackage})` };
}

function ciTool(relative: string, what: string): Probe {
  const path = join(CI_TOOLS_DIR, relative);
  return { path: existsSync(path) ? path : undefined, missing: `${what} not found at ${path}` };
}

/** The corpus directory this run uses (BRIDGE_TEST_CORPUS_DIR, else ../shared/corpus/mime). */
export function corpusDir(): string {
  return process.env.BRIDGE_TEST_CORPUS_DIR
    ? resolve(process.env.BRIDGE_TEST_CORPUS_DIR)
    : DEFAULT_CORPUS_DIR;
}

function corpus(): Probe {
  const dir = corpusDir();
  let present = false;
  try {
    present = readdirSync(dir).some((f) => f.endsWith('.eml'));
  } catch {
    present = false;
  }
  return { path: present ? dir : undefined, missing: `MIME corpus not found at ${dir}` };
}

const PROBES: Record<ToolGroup, () => Probe> = {
  swaks: () => systemTool('swaks', 'swaks'),
  'smtp-source': () => systemTool('smtp-source', 'postfix'),
  chromium: () => systemTool('chromium', 'chromium'),
  nginx: () => systemTool('nginx', 'nginx'),
  strace: () => systemTool('strace', 'strace'),
  unzip: () => systemTool('unzip', 'unzip'),
  bicep: () => ciTool(join('bicep', 'bicep'), 'Bicep CLI'),
  pwsh: () => ciTool(join('pwsh', 'pwsh'), 'PowerShell'),
  'mime-corpus': corpus,
};

const probed = new Map<ToolGroup, Probe>();

export function probe(group: ToolGroup): Probe {
  let result = probed.get(group);
  if (!result) {
    result = PROBES[group]();
    probed.set(group, result);
  }
  return result;
}

/** Whether the group's tool or data is here. */
export function hasTool(group: ToolGroup): boolean {
  return probe(group).path !== undefined;
}

/**
 * The absolute path of the group's executable (or the corpus folder). Call it inside a block registered with
 * describeWithTool or after requireTool for the same group; anywhere else a missing tool throws with the fix.
 */
export function toolPath(group: ToolGroup): string {
  const { path, missing } = probe(group);
  if (path === undefined) throw new Error(`${missing}; install it with: ${SETUP_COMMAND}`);
  return path;
}

/** BRIDGE_TEST_ALL=1: a missing tool fails the run instead of skipping its group (.ci/run sets it). */
export function testAllRequired(): boolean {
  return process.env.BRIDGE_TEST_ALL === '1';
}

declare module 'vitest' {
  interface TaskMeta {
    /** Set on a test skipped because these groups are missing; read by test/reporters/not-run-groups.mts. */
    notRunGroups?: ToolGroup[];
    /** Set on a test failed because these groups are missing, under BRIDGE_TEST_ALL=1. */
    missingGroups?: ToolGroup[];
  }
}
