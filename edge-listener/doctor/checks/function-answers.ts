import { type CheckResult, fail, pass } from '../check-result';
import { getJson, NoAnswerError } from '../function-requests';

const ID = 'function-answers';
const LIVENESS_PATH = '/api/health';

/** GET /api/health (anonymous): the URL reaches the bridge's function app and it runs. */
export async function functionAnswersCheck(functionUrl: string, timeoutMs: number): Promise<CheckResult> {
  const url = new URL(LIVENESS_PATH, functionUrl).toString();
  const title = 'The function app answers';
  const fixUrl =
    'Check BRIDGE_FUNCTION_URL: the base URL of the function app without /api (Azure portal → Function App → Overview → Default domain).';
  let answer;
  try {
    answer = await getJson(url, {}, timeoutMs);
  } catch (e) {
    const code = e instanceof NoAnswerError ? e.code : 'ERROR';
    const what =
      code === 'ECONNREFUSED'
        ? 'the connection was refused'
        : code === 'ETIMEDOUT'
          ? `no answer within ${timeoutMs} ms`
          : code;
    return fail(
      ID,
      title,
      `Nothing answers at ${url} (${what}).`,
      `${fixUrl} Make sure the function app is running and that this machine may reach it (firewall, proxy, private endpoint).`,
      { url, code },
    );
  }
  const body = answer.json as { status?: unknown } | undefined;
  if (answer.status === 200 && body?.status === 'alive')
    return pass(ID, title, `GET ${url} → 200 alive.`, { url, status: 200 });
  if (answer.status === 404)
    return fail(
      ID,
      title,
      `${url} answers 404: this URL is not the bridge's function app, or the app has no functions deployed.`,
      `${fixUrl} Deploy the function app if it is new (docs/deploy.md).`,
      { url, status: 404 },
    );
  if (answer.status >= 500)
    return fail(
      ID,
      title,
      `${url} answers HTTP ${answer.status}: the function app is stopped, starting or failing.`,
      'Start the function app (Azure portal → Function App → Start) and look at its log stream / Application Insights for start-up errors.',
      { url, status: answer.status },
    );
  const looksLikeHtml = /html/i.test(answer.contentType) || /^\s*</.test(answer.text);
  return fail(
    ID,
    title,
    `${url} answers HTTP ${answer.status}${looksLikeHtml ? ' with an HTML page' : ''}, not the bridge's liveness answer: a proxy, a login page or another site is in the way.`,
    `${fixUrl} If a proxy or App Service authentication intercepts the request, exempt the function app's /api routes.`,
    { url, status: answer.status },
  );
}
