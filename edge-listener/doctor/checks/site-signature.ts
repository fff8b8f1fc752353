import { DIAGNOSTICS_PATH, type DiagnosticsReport } from '../../../core/diagnostics';
import { isBridgeErrorCode, type SerializedBridgeError } from '../../../core/errors';
import type { EdgeConfig } from '../../config';
import { type CheckResult, fail, pass } from '../check-result';
import { explainFailure } from '../explain-failure';
import { diagnosticsNonce, NoAnswerError, signedGet } from '../function-requests';

const ID = 'site-signature';
const TITLE = "The function accepts this site's key and signature";

/**
 * A signed GET of the diagnostics route: the Functions host checks the function key, the bridge checks the
 * site id, the HMAC and the clock. On success the answer is the cloud side's DiagnosticsReport.
 */
export async function siteSignatureCheck(
  config: EdgeConfig,
  mailboxes: string[],
  timeoutMs: number,
): Promise<{ result: CheckResult; report?: DiagnosticsReport }> {
  const query = new URLSearchParams(mailboxes.map((m): [string, string] => ['mailbox', m]));
  let answer;
  try {
    // Graph probes of a few mailboxes take longer than one plain request.
    answer = await signedGet(config, DIAGNOSTICS_PATH, {
      messageId: diagnosticsNonce(),
      query,
      timeoutMs: timeoutMs * 4,
    });
  } catch (e) {
    const code = e instanceof NoAnswerError ? e.code : 'ERROR';
    return {
      result: fail(
        ID,
        TITLE,
        `The diagnostics request got no answer (${code}).`,
        'Run doctor again; if the function answered the liveness check, it may be overloaded or restarting.',
        { code },
      ),
    };
  }
  const body = answer.json as (Partial<DiagnosticsReport> & { error?: SerializedBridgeError }) | undefined;
  if (answer.status === 200 && body && typeof body.site === 'string') {
    return {
      result: pass(
        ID,
        TITLE,
        `The function host accepted the function key and the bridge accepted the signature of site "${body.site}".`,
        { site: body.site },
      ),
      report: body as DiagnosticsReport,
    };
  }
  const error = body?.error;
  if (error && isBridgeErrorCode(error.code)) {
    const x = explainFailure(error, { siteId: config.siteId });
    return { result: fail(ID, TITLE, x.summary, x.fix, { status: answer.status, code: error.code }) };
  }
  if (answer.status === 401 || answer.status === 403) {
    const key = config.forward.functionKey
      ? 'the configured BRIDGE_FUNCTION_KEY is not a key of this function app'
      : 'no BRIDGE_FUNCTION_KEY is set';
    return {
      result: fail(
        ID,
        TITLE,
        `The Azure Functions host refused the request with HTTP ${answer.status} before the bridge saw it: ${key}.`,
        'Set BRIDGE_FUNCTION_KEY (or BRIDGE_FUNCTION_KEY_FILE) to a key of the function app — Azure portal → Function App → App keys, or `az functionapp keys list -g <group> -n <app>` — and restart the listener.',
        { status: answer.status },
      ),
    };
  }
  if (answer.status === 404) {
    return {
      result: fail(
        ID,
        TITLE,
        `The function app has no ${DIAGNOSTICS_PATH} route: it runs an older version of the bridge.`,
        'Deploy the current function app (docs/deploy.md), then run doctor again.',
        { status: 404 },
      ),
    };
  }
  return {
    result: fail(
      ID,
      TITLE,
      `Unexpected answer to the diagnostics request: HTTP ${answer.status}.`,
      "Check BRIDGE_FUNCTION_URL and the function app's log for this request.",
      { status: answer.status },
    ),
  };
}
