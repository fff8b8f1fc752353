import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { waitForPort } from './processes';
import { freePort } from '../../scripts/stack/readiness';
import type { Target } from './targets';

/**
 * A private Postfix instance — the reference the 1 MB target is set against: smtpd writing every message
 * into its fsync'd queue (cleanup), qmgr handing it to the discard transport. It runs from a throwaway
 * config directory (`postfix -c DIR start`), so the machine's own Postfix (left unconfigured) is untouched.
 * Postfix must start as root; elsewhere this returns undefined and the report keeps the figure of
 * docs/design/toolchain.md §smtp-server instead. CPU is charged to the whole instance (master and every daemon it forks, see cpuSecondsTree).
 */
export const POSTFIX_NAME = "Postfix 3.7 smtpd, fsync'd queue, discard transport";

export async function postfixQueueTarget(): Promise<Target | undefined> {
  if (process.getuid?.() !== 0 || spawnSync('id', ['-u', 'postfix']).status !== 0) return undefined;
  // Under the system temp dir, opened up: Postfix's daemons run as the postfix user and must reach the queue.
  const base = mkdtempSync(join(tmpdir(), 'bench-postfix-'));
  chmodSync(base, 0o755);
  const [etc, queue, data] = ['etc', 'queue', 'data'].map((d) => join(base, d)) as [string, string, string];
  for (const d of [etc, queue, data]) mkdirSync(d);
  spawnSync('chown', ['postfix', data]); // master's lock file lives here and is created as mail_owner
  const port = await freePort();
  writeFileSync(join(etc, 'main.cf'), mainCf(base, queue, data));
  writeFileSync(join(etc, 'master.cf'), masterCf(port));
  const postfix = (cmd: string) => spawnSync('/usr/sbin/postfix', ['-c', etc, cmd], { encoding: 'utf8' });
  const started = postfix('start');
  if (started.status !== 0) {
    const log = join(base, 'maillog'); // Postfix reports to its log, not stderr, without a terminal
    const why = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').at(-2) : started.stderr.trim();
    console.error(`private Postfix did not start (${why ?? started.status}); keeping the reference figure`);
    rmSync(base, { recursive: true, force: true });
    return undefined;
  }
  await waitForPort(port);
  const pid = Number(readFileSync(join(queue, 'pid', 'master.pid'), 'utf8').trim());
  return {
    name: POSTFIX_NAME,
    port,
    pid,
    cpuOfTree: true,
    stop: async () => {
      postfix('stop');
      await new Promise((r) => setTimeout(r, 1000));
      rmSync(base, { recursive: true, force: true });
    },
  };
}

function mainCf(base: string, queue: string, data: string): string {
  return `compatibility_level = 3.6
queue_directory = ${queue}
data_directory = ${data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = bench.localdomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
default_transport = discard
relay_transport = discard
local_transport = discard
alias_maps =
alias_database =
biff = no
message_size_limit = 0
maillog_file = ${join(base, 'maillog')}
maillog_file_prefixes = ${base}
`;
}

/** The stock master.cf services, with smtpd on a loopback port instead of :25. */
function masterCf(port: number): string {
  const unix = [
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  return [`127.0.0.1:${port} inet n - n - - smtpd`, ...unix].join('\n') + '\n';
}
