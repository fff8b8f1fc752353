import type { SerializedBridgeError } from '../../core/errors';
import type { SpoolEntry, SpoolState, SpoolStats } from '../spool/entry';
import type { Spool } from '../spool/spool';
import type { ActivityBucket, ActivitySeries } from './activity-series';
import type { CloudStateReader, CloudView } from './cloud-state';
import type { HeaderCache } from './header-cache';
import type { SandboxClient, SandboxList } from './sandbox-client';

/**
 * The JSON the status page polls (GET /status/api/snapshot): every message the listener holds, grouped the
 * way an admin asks about them — waiting (queued, in flight, deferred), failed, recently finished (with what
 * the cloud says now) — the sandbox's kept messages, spool numbers and the activity chart. Values are plain
 * data; the page escapes everything it shows.
 */
export interface EntryView {
  /** The spool id (what the actions take). */
  id: string;
  /** What the function knows the message by: the spool id, or `<id>.r<n>` after an admin resubmission. */
  submissionId: string;
  state: SpoolState;
  mailFrom: string;
  rcptTo: string[];
  rcptCount: number;
  subject?: string;
  from?: string;
  bytes: number;
  attempts: number;
  receivedAt: string;
  nextAttemptAt?: string;
  lastAttemptAt?: string;
  failedAt?: string;
  completedAt?: string;
  outcome?: string;
  error?: SerializedBridgeError;
  result?: { state: string; sender?: string; graphRequestId?: string; error?: SerializedBridgeError };
  cloud?: CloudView;
  /**
   * State `cloud` (queued in the cloud, body kept here): since when, the cloud's next try, and why the last
   * read of its state failed, if it did. The cloud's own last error is `error`.
   */
  cloudQueue?: { queuedAt: string; nextAttemptAt?: string; checkError?: SerializedBridgeError };
}

export interface StatusSnapshot {
  generatedAt: string;
  site: string;
  instance: string;
  mode: 'sandbox' | 'live';
  smtp: { port: number; connections: number };
  spool: SpoolStats;
  waiting: EntryView[];
  failed: EntryView[];
  recent: EntryView[];
  sandbox?: SandboxList;
  activity: { bucketMs: number; buckets: ActivityBucket[] };
}

export interface SnapshotSources {
  site: string;
  instance: string;
  smtpPort: number;
  smtpConnections: () => number;
  spool: Spool;
  headers: HeaderCache;
  activity: ActivitySeries;
  cloud: CloudStateReader;
  sandbox?: SandboxClient;
}

/** Rows per list: enough for a view, bounded so a large backlog does not make every poll read it all. */
export const LIST_LIMITS = { waiting: 100, failed: 100, recent: 25, sandbox: 50, recipients: 5 } as const;

export async function buildSnapshot(src: SnapshotSources): Promise<StatusSnapshot> {
  const { spool } = src;
  const [waiting, failed, recent, sandbox] = await Promise.all([
    spool.list({ states: ['queued', 'inflight', 'cloud', 'deferred'], limit: LIST_LIMITS.waiting }),
    spool.list({ states: ['failed'], limit: LIST_LIMITS.failed }),
    spool.list({ states: ['done'], limit: LIST_LIMITS.recent }),
    src.sandbox?.list(LIST_LIMITS.sandbox),
  ]);
  const view = async (e: SpoolEntry) =>
    entryView(e, e.state === 'done' ? src.headers.known(e.id) : await src.headers.forLive(e.id));
  const snapshot: StatusSnapshot = {
    generatedAt: new Date().toISOString(),
    site: src.site,
    instance: src.instance,
    mode: src.sandbox ? 'sandbox' : 'live',
    smtp: { port: src.smtpPort, connections: src.smtpConnections() },
    spool: spool.stats(),
    waiting: await Promise.all(waiting.map(view)),
    failed: await Promise.all(failed.map(view)),
    recent: await Promise.all(
      recent.map(async (e) => {
        const v = await view(e);
        // Only what the function took over has a cloud side worth asking about.
        if (e.outcome === 'sent' || e.outcome === 'queued') v.cloud = src.cloud.view(e.submissionId);
        return v;
      }),
    ),
    activity: { bucketMs: src.activity.bucketMs, buckets: src.activity.buckets() },
  };
  if (sandbox) snapshot.sandbox = sandbox;
  return snapshot;
}

function entryView(e: SpoolEntry, headers: { subject?: string; from?: string } | undefined): EntryView {
  const v: EntryView = {
    id: e.id,
    submissionId: e.submissionId,
    state: e.state,
    mailFrom: e.envelope.mailFrom,
    rcptTo: e.envelope.rcptTo.slice(0, LIST_LIMITS.recipients),
    rcptCount: e.envelope.rcptTo.length,
    bytes: e.mimeBytes,
    attempts: e.attempts,
    receivedAt: e.envelope.receivedAt,
  };
  if (headers?.subject !== undefined) v.subject = headers.subject;
  if (headers?.from !== undefined) v.from = headers.from;
  for (const key of ['nextAttemptAt', 'lastAttemptAt', 'failedAt', 'completedAt', 'outcome'] as const) {
    const value = e[key];
    if (value !== undefined) v[key] = value;
  }
  if (e.lastError) v.error = e.lastError;
  if (e.state === 'cloud' && e.cloud) {
    const c = e.cloud;
    v.cloudQueue = {
      queuedAt: c.queuedAt,
      ...(c.nextAttemptAt ? { nextAttemptAt: c.nextAttemptAt } : {}),
      ...(c.checkError ? { checkError: c.checkError as SerializedBridgeError } : {}),
    };
  }
  if (e.result) {
    const r = e.result;
    v.result = {
      state: r.state,
      ...(r.sender ? { sender: r.sender } : {}),
      ...(r.graphRequestId ? { graphRequestId: r.graphRequestId } : {}),
      ...(r.error ? { error: r.error } : {}),
    };
  }
  return v;
}
