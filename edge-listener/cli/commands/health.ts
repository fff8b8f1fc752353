import { request } from 'node:http';

import { parseArgs, UsageError } from '../args';
import { localUrl } from '../admin-endpoint';
import { type Command, CONFIG_OPTION_HELP, err, out } from '../command';
import { cliContext, loadFullConfig } from '../config';
import { DEEP_HEALTH_PATH } from '../../../core/diagnostics';
import { diagnosticsNonce, NoAnswerError, signedGet } from '../../doctor/function-requests';

const HELP = `Usage: health [--url URL] [--config FILE] [--quiet]
       health --deep [--config FILE] [--quiet]

Asks the running listener's GET /healthz and prints the answer. Exit code 0 when it answers 200 (able to
take mail), 1 otherwise — the container HEALTHCHECK and monitoring scripts use this. Without --url the
address comes from BRIDGE_HTTP_HOST and BRIDGE_HTTP_PORT.

With --deep it asks the function's GET /api/health/deep instead, signed as this site (BRIDGE_SITE_ID,
BRIDGE_SITE_SECRET, BRIDGE_FUNCTION_KEY): this site's Graph token and roles, its sender mailboxes and the
function's storage. The function probes at most once a minute per site and repeats its last answer in
between ("reused": true). Exit code 0 when the function answers 200.

Options:
  --url URL          base URL of the listener's HTTP server, e.g. http://127.0.0.1:8025
  --deep             ask the function's deep health for this site instead of the listener
${CONFIG_OPTION_HELP}
  --quiet            print nothing, only set the exit code
  --help             this help
`;

const DEEP_TIMEOUT_MS = 60_000;

export const healthCommand: Command = {
  name: 'health',
  summary: 'ask the running listener for /healthz (exit 0 = healthy)',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, { flags: ['quiet', 'deep'], values: ['url', 'config'] });
    if (args.flags.has('help')) {
      out(HELP);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    if (args.flags.has('deep')) {
      if (args.values.has('url'))
        throw new UsageError('--deep asks the function (BRIDGE_FUNCTION_URL), not --url');
      return deepHealth(args.values.get('config'), args.flags.has('quiet'));
    }
    let base = args.values.get('url');
    if (!base) {
      const loaded = loadFullConfig(cliContext(args.values.get('config')));
      if ('issues' in loaded) {
        err('Configuration invalid; give --url or run `config check`.\n');
        return 1;
      }
      base = localUrl(loaded.config.http.host, loaded.config.http.port);
    }
    const quiet = args.flags.has('quiet');
    try {
      const { status, body } = await get(new URL('/healthz', base));
      if (!quiet) out(`${status} ${body}\n`);
      return status === 200 ? 0 : 1;
    } catch (e) {
      if (!quiet)
        err(`no answer from ${base}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      return 1;
    }
  },
};

/** GET /api/health/deep of the function, signed as this site (core/diagnostics.ts). */
async function deepHealth(configFile: string | undefined, quiet: boolean): Promise<number> {
  const loaded = loadFullConfig(cliContext(configFile));
  if ('issues' in loaded) {
    err('Configuration invalid; run `config check`.\n');
    return 1;
  }
  try {
    const answer = await signedGet(loaded.config, DEEP_HEALTH_PATH, {
      messageId: diagnosticsNonce(),
      timeoutMs: DEEP_TIMEOUT_MS,
    });
    if (!quiet)
      out(`${answer.status} ${answer.json === undefined ? answer.text : JSON.stringify(answer.json)}\n`);
    return answer.status === 200 ? 0 : 1;
  } catch (e) {
    if (!quiet)
      err(`no answer from the function: ${e instanceof NoAnswerError ? e.code : (e as Error).message}\n`);
    return 1;
  }
}

function get(url: URL): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}
