import type { EdgeConfig, LoadResult } from '../../config';
import { type CheckResult, fail, pass } from '../check-result';

const TITLE = 'Configuration is valid';

/** The edge configuration (environment + optional file) parses; every problem is listed at once. */
export function configValidCheck(loaded: LoadResult): { result: CheckResult; config?: EdgeConfig } {
  if ('issues' in loaded) {
    const n = loaded.issues.length;
    return {
      result: fail(
        'config',
        TITLE,
        `${n} problem${n === 1 ? '' : 's'} in the edge listener's settings:\n${loaded.issues.map((i) => `- ${i}`).join('\n')}`,
        'Fix each setting listed (environment variables, BRIDGE_*_FILE files or the --config JSON file; the environment wins), then run doctor again. docs/config-edge.md describes every setting.',
        { issues: loaded.issues },
      ),
    };
  }
  const c = loaded.config;
  return {
    result: pass(
      'config',
      TITLE,
      `Site "${c.siteId}" (instance ${c.instanceId}) forwards to ${c.forward.url}; spool in ${c.dataDir}.`,
      {
        site: c.siteId,
        instance: c.instanceId,
        functionUrl: c.forward.url,
        dataDir: c.dataDir,
        functionKey: c.forward.functionKey !== undefined,
      },
    ),
    config: c,
  };
}
