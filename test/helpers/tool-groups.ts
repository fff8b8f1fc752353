import { describe, it, type TestContext } from 'vitest';

import { hasTool, probe, SETUP_COMMAND, type ToolGroup } from './tool-probe';

export { corpusDir, hasTool, toolPath, type ToolGroup } from './tool-probe';

/**
 * Test groups that need something a fresh clone with Node, Python 3 and git does not have (the groups and
 * how they are found: test/helpers/tool-probe.ts).
 *
 * Where it is missing, `describeWithTool` registers a skipped placeholder ("not run: …") that
 * carries the group in its meta; test/reporters/not-run-groups.ts turns those into the run's closing line.
 * With BRIDGE_TEST_ALL=1 (set by .ci/run) the placeholder fails instead: CI runs everything or goes red.
 * The block's own body is not even collected when its tool is missing, so it may use the tool or read its
 * data (e.g. list the corpus) while collecting. For one test in a block that runs anyway: `requireTool`.
 */

/** BRIDGE_TEST_ALL=1: a missing tool fails the run instead of skipping its group (.ci/run sets it). */
export function testAllRequired(): boolean {
  return process.env.BRIDGE_TEST_ALL === '1';
}

function missingGroups(groups: readonly ToolGroup[]): ToolGroup[] {
  return groups.filter((g) => !hasTool(g));
}

/** Registers a placeholder per missing group: skipped, or failing under BRIDGE_TEST_ALL=1. */
function placeholder(missing: readonly ToolGroup[]): void {
  for (const group of missing) {
    const { missing: what } = probe(group);
    if (testAllRequired()) {
      it(`needs ${group}: ${what}`, { meta: { missingGroups: [group] } }, () => {
        throw new Error(
          `BRIDGE_TEST_ALL=1 and ${what}: a missing tool is a failure here, never a skip. Install with: ${SETUP_COMMAND}`,
        );
      });
    } else {
      it.skip(`not run: ${what} (${SETUP_COMMAND})`, { meta: { notRunGroups: [group] } }, () => {});
    }
  }
}

const asList = (groups: ToolGroup | readonly ToolGroup[]): readonly ToolGroup[] =>
  typeof groups === 'string' ? [groups] : groups;

/** `describe` for a block that needs one or more groups; see the file comment for what happens without them. */
export function describeWithTool(
  groups: ToolGroup | readonly ToolGroup[],
  name: string,
  body: () => void,
): void {
  const missing = missingGroups(asList(groups));
  if (missing.length === 0) describe(name, body);
  else describe(name, () => placeholder(missing));
}

/**
 * First line of a single test that needs one or more groups, inside an otherwise self-contained block:
 * `it('…', async (ctx) => { requireTool(ctx, 'swaks'); … })`. Skips the test (vitest's `ctx.skip`), marked for
 * the closing line, when a group is missing; throws instead under BRIDGE_TEST_ALL=1. Hooks of the block still
 * run, so they must not need the tool.
 */
export function requireTool(context: TestContext, ...groups: ToolGroup[]): void {
  const missing = missingGroups(groups);
  if (missing.length === 0) return;
  const what = missing.map((g) => probe(g).missing).join('; ');
  if (testAllRequired()) {
    context.task.meta.missingGroups = missing;
    throw new Error(
      `BRIDGE_TEST_ALL=1 and ${what}: a missing tool is a failure here, never a skip. Install with: ${SETUP_COMMAND}`,
    );
  }
  context.task.meta.notRunGroups = missing;
  context.skip(`not run: ${what} (${SETUP_COMMAND})`);
}
