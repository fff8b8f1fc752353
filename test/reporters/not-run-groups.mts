import type { TestModule } from 'vitest/node';
import { JsonReporter } from 'vitest/node';

import { SETUP_COMMAND, type ToolGroup } from '../helpers/tool-probe.js';

/**
 * vitest's JSON report (.ci/run prints its "N passed, N failed" line from it), then the run's closing line
 * about the test groups of test/helpers/tool-groups.ts: which groups did not run because their tool or data
 * is missing, and the one command that installs them. vitest runs its reporters side by side, so a separate
 * reporter could not print after the JSON reporter's own "written to" line; this one waits for the report.
 * Listed last in vitest.config.mts. Prints nothing more when every group a run's files use was there.
 */
export default class NotRunGroupsReporter extends JsonReporter {
  override async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    await super.onTestRunEnd(testModules);
    const notRun = new Set<ToolGroup>();
    const failed = new Set<ToolGroup>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const meta = test.meta();
        for (const group of meta.notRunGroups ?? []) notRun.add(group);
        for (const group of meta.missingGroups ?? []) failed.add(group);
      }
    }
    const line = closingLine([...notRun].sort(), [...failed].sort());
    if (line) this.ctx.logger.log(line);
  }
}

/** The one plain line; undefined when there is nothing to say. */
export function closingLine(notRun: readonly ToolGroup[], failed: readonly ToolGroup[]): string | undefined {
  if (failed.length > 0) {
    return `Test groups FAILED for a missing tool (BRIDGE_TEST_ALL=1): ${failed.join(', ')}. Install with: ${SETUP_COMMAND}`;
  }
  if (notRun.length > 0) {
    return `Test groups not run (tool or data missing): ${notRun.join(', ')}. Install with: ${SETUP_COMMAND}`;
  }
  return undefined;
}
