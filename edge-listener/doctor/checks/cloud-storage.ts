import type { DiagnosticsReport } from '../../../core/diagnostics';
import { type CheckResult, fail, pass } from '../check-result';
import { explainFailure } from '../explain-failure';

/** The function's Azure Storage (state table, blobs, queue) answers: without it nothing is recorded or queued. */
export function cloudStorageCheck(report: DiagnosticsReport): CheckResult {
  const title = "The function's storage answers";
  if (report.storage.ok)
    return pass('cloud-storage', title, 'Tables, blobs and the queue of the function app answer.');
  const x = explainFailure(report.storage.error);
  return fail('cloud-storage', title, x.summary, x.fix, { code: report.storage.error.code });
}
