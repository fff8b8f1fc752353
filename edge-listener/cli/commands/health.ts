import { request } from 'node:http';

import { parseArgs, UsageError } from '../args';
import { localUrl } from '../admin-endpoint';
import { type Command, CONFIG_OPTION_HELP, err, out } from '../command';
import { cliContext, loadFullConfig } from '../config';

const HELP = `Usage: health [--url URL] [--config FILE] [--quiet]

Asks the running listener's GET /healthz and prints the answer. Exit code 0 when it answers 200 (able to
take mail), 1 otherwise — the container HEALTHCHECK and monitoring scripts use this. Without --url the
address comes from BRIDGE_HTTP_HOST and BRIDGE_HTTP_PORT.

Options:
  --url URL          base URL of the listener's HTTP server, e.g. http://127.0.0.1:8025
${CONFIG_OPTION_HELP}
  --quiet            print nothing, only set the exit code
  --help             this help
`;

export const healthCommand: Command = {
  name: 'health',
  summary: 'ask the running listener for /healthz (exit 0 = healthy)',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, { flags: ['quiet'], values: ['url', 'config'] });
    if (args.flags.has('help')) {
      out(HELP);
      return 0;
    }
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
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
