import { parseArgs, intValue, UsageError } from '../args';
import { createCliLogger } from '../cli-logger';
import { type Command, CONFIG_OPTION_HELP, err, out } from '../command';
import { cliContext, resolveDataDir } from '../config';
import { entryDetails, entryRows } from '../format';
import { openQueueActions, type ActionResult } from '../queue-actions';
import { SpoolReader } from '../spool-reader';
import { spoolLayout } from '../../spool/layout';
import type { SpoolState } from '../../spool/entry';

const STATES: readonly SpoolState[] = ['queued', 'deferred', 'cloud', 'failed', 'done'];

const HELP = `Usage: queue <list|show|retry|delete> [options]

Look at and act on the spool in BRIDGE_DATA_DIR. Works while the listener runs: list and show read the
spool files directly (no lock needed); retry and delete go through the running listener's admin API
(loopback only, token in BRIDGE_DATA_DIR/admin.json), or — when no listener runs — open the spool
directly. Every retry and delete is logged as an ADMIN_ACTION event.

  queue list [--state S,...] [--limit N] [--json]
                     waiting, queued-in-the-cloud and failed messages (add --state done for
                     finished ones), at most
                     N (default 200);
                     S is queued, deferred, cloud (queued in the cloud: the edge keeps the
                     body until the cloud says sent or failed), failed or done
  queue show ID [--json]
                     everything known about one message (envelope, attempts, last error, hint)
  queue retry ID [--force]
                     make a deferred or failed message due now (a failed one gets a new maximum age;
                     one the function failed goes out again under a new id <ID>.r<n>); a message
                     queued in the cloud has its cloud state read now. A message whose outcome is
                     unknown (GRAPH_OUTCOME_UNKNOWN: Graph may have sent it) is only sent again with
                     --force, because it may then arrive twice: look in Sent Items first
  queue retry --all-failed [--force]
                     retry every failed message (without --force, unknown outcomes are skipped)
  queue delete ID    remove a message from the spool for good (the device is not told)

Options:
  --data-dir DIR     spool location; default: $BRIDGE_DATA_DIR, then the config file, then ./.data
${CONFIG_OPTION_HELP}
  --json             machine-readable output
  --help             this help
`;

const OPTIONS = {
  flags: ['json', 'all-failed', 'force'],
  values: ['state', 'limit', 'data-dir', 'config'],
} as const;

export const queueCommand: Command = {
  name: 'queue',
  summary: 'list, show, retry or delete spooled messages',
  help: HELP,
  async run(argv) {
    const args = parseArgs(argv, OPTIONS);
    const [sub, id, extra] = args.positionals;
    if (args.flags.has('help') || sub === undefined) {
      out(HELP);
      return sub === undefined && !args.flags.has('help') ? 2 : 0;
    }
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    const dataDir = resolveDataDir(cliContext(args.values.get('config')), args.values.get('data-dir'));
    const reader = new SpoolReader(spoolLayout(dataDir));
    const json = args.flags.has('json');
    switch (sub) {
      case 'list': {
        if (id !== undefined) throw new UsageError(`queue list takes no id (use queue show ${id})`);
        const entries = await reader.list({
          states: parseStates(args.values.get('state')),
          limit: intValue(args, 'limit', 1, 1_000_000) ?? 200,
        });
        if (json) out(JSON.stringify(entries, null, 2) + '\n');
        else if (entries.length === 0) out(`No messages (${dataDir}).\n`);
        else out(entryRows(entries));
        const quarantined = await reader.quarantined();
        if (quarantined.length > 0 && !json)
          err(
            `${quarantined.length} file(s) in quarantine (${spoolLayout(dataDir).quarantine}); see docs/edge-operations.md\n`,
          );
        return 0;
      }
      case 'show': {
        if (!id) throw new UsageError('queue show needs a message id');
        const entry = await reader.get(id);
        if (!entry) {
          err(`No message ${id} in ${dataDir} (finished records are kept for BRIDGE_SPOOL_KEEP_DONE_MS).\n`);
          return 1;
        }
        const path = entry.state === 'done' ? undefined : `${spoolLayout(dataDir).messages}/${id}.eml`;
        out(json ? JSON.stringify(entry, null, 2) + '\n' : entryDetails(entry, path));
        return 0;
      }
      case 'retry':
      case 'delete': {
        const all = args.flags.has('all-failed');
        const force = args.flags.has('force');
        if (sub === 'delete' && all) throw new UsageError('--all-failed belongs to queue retry');
        if (sub === 'delete' && force) throw new UsageError('--force belongs to queue retry');
        if (all === (id !== undefined))
          throw new UsageError(
            sub === 'retry'
              ? 'queue retry needs either an id or --all-failed'
              : 'queue delete needs a message id',
          );
        const actions = await openQueueActions(dataDir, createCliLogger());
        try {
          const result =
            sub === 'delete'
              ? await actions.delete(id!)
              : all
                ? await actions.retryAllFailed(force)
                : await actions.retry(id!, force);
          return report(sub, result, actions.via, json);
        } finally {
          await actions.close();
        }
      }
      default:
        throw new UsageError(`unknown queue command ${sub}`);
    }
  },
};

function parseStates(raw: string | undefined): SpoolState[] {
  if (raw === undefined) return ['queued', 'deferred', 'cloud', 'failed'];
  const states = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of states)
    if (!STATES.includes(s as SpoolState))
      throw new UsageError(`unknown state ${s} (use ${STATES.join(', ')})`);
  return states as SpoolState[];
}

function report(action: 'retry' | 'delete', result: ActionResult, via: string, json: boolean): number {
  if (json) out(JSON.stringify({ action, via, ...result }) + '\n');
  else if (result.status === 'confirm') {
    err(
      `retry refused: ${result.message}.\n${result.hint ? `${result.hint}\n` : ''}` +
        'It may have been sent already; run again with --force to send it anyway (it may arrive twice).\n',
    );
  } else if (result.status === 'done') {
    if (result.skipped?.length)
      err(
        `Skipped ${result.skipped.length} message(s) whose outcome is unknown (may duplicate; retry each with --force):\n${result.skipped.map((id) => `  ${id}\n`).join('')}`,
      );
    const verb = action === 'retry' ? 'Retrying' : 'Deleted';
    // A resubmission (the function had failed it for good) goes out under a new submission id: say which.
    const line = (e: { id: string; submissionId: string }) =>
      e.submissionId !== e.id ? `  ${e.id}  (resubmitted as ${e.submissionId})\n` : `  ${e.id}\n`;
    out(
      result.ids.length === 0
        ? 'No failed messages to retry.\n'
        : `${verb} ${result.ids.length} message(s) (via ${via}):\n${result.entries.map(line).join('')}`,
    );
  } else err(`${action} failed: ${result.message}\n`);
  return result.status === 'done' ? 0 : 1;
}
