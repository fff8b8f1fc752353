import type { EdgeEvents } from '../events';
import type { SpoolStats } from '../spool/entry';
import type { FunctionReachability } from './function-reachability';
import { Counter, Gauge, Histogram, type Labels, MetricsRegistry } from './prometheus-text';

export interface EdgeMetricsSources {
  events: EdgeEvents;
  spoolStats: () => SpoolStats;
  openConnections: () => number;
  reachability: FunctionReachability;
  siteId: string;
  instanceId: string;
}

/** Seconds; from a LAN round trip to the forward timeout (60 s by default). */
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const OUTCOMES = ['sent', 'queued', 'deferred', 'rejected', 'failed'] as const;
const SPOOL_STATES = ['queued', 'deferred', 'inflight', 'cloud', 'failed', 'done'] as const;

/**
 * The listener's Prometheus series (docs/edge-operations.md lists them). Counters are fed by EdgeEvents, so
 * the SMTP and forwarding code stays free of metrics calls; gauges are read from the spool at scrape time.
 * Labels are bounded sets (states, outcomes, stages, error codes) — never ids or addresses.
 */
export class EdgeMetrics {
  readonly #registry = new MetricsRegistry();
  readonly connections: Counter;
  readonly refused: Counter;
  readonly authFailures: Counter;
  readonly accepted: Counter;
  readonly acceptedBytes: Counter;
  readonly outcomes: Counter;
  readonly replies: Counter;
  readonly replyHold: Counter;
  readonly forwardSeconds: Histogram;
  readonly replySeconds: Histogram;

  constructor(src: EdgeMetricsSources) {
    const r = this.#registry;
    r.add(
      new Gauge('bridge_edge_info', 'Identity of this listener (value is always 1).', () => [
        [{ site: src.siteId, instance: src.instanceId }, 1],
      ]),
    );
    this.connections = r.add(
      new Counter(
        'bridge_edge_smtp_connections_total',
        'SMTP connections admitted (after the allow-list and per-address limits).',
      ),
    );
    r.add(new Gauge('bridge_edge_smtp_open_connections', 'SMTP connections open now.', src.openConnections));
    this.refused = r.add(
      new Counter(
        'bridge_edge_smtp_refused_total',
        'SMTP refusals by stage (connect, auth, mail, rcpt, data) and error code.',
      ),
    );
    this.authFailures = r.add(
      new Counter(
        'bridge_edge_smtp_auth_failures_total',
        'Failed SMTP AUTH attempts (wrong credentials or locked-out address).',
      ),
    );
    this.accepted = r.add(
      new Counter(
        'bridge_edge_messages_accepted_total',
        'Messages durably stored in the spool (each got or gets a reply from its forward attempt).',
      ),
    );
    this.acceptedBytes = r.add(
      new Counter('bridge_edge_accepted_bytes_total', 'Bytes of raw MIME stored in the spool.'),
    );
    this.outcomes = r.add(
      new Counter(
        'bridge_edge_forward_outcomes_total',
        'Forward attempts by outcome: sent, queued (by the function), deferred (kept, retried), rejected (the client got the 5xx), failed (kept as failed).',
      ),
    );
    this.replies = r.add(
      new Counter('bridge_edge_smtp_data_replies_total', 'Replies to DATA by class (2xx, 4xx, 5xx).'),
    );
    this.replyHold = r.add(
      new Counter(
        'bridge_edge_reply_hold_total',
        'Stored messages by how their SMTP reply was decided (BRIDGE_REPLY_HOLD): reply="held" waited for the function, reply="commit" went out at once; reason as in docs/design/reply-hold.md.',
      ),
    );
    this.forwardSeconds = r.add(
      new Histogram(
        'bridge_edge_forward_duration_seconds',
        'Duration of one POST to the function, from start to classified answer.',
        LATENCY_BUCKETS_S,
      ),
    );
    this.replySeconds = r.add(
      new Histogram(
        'bridge_edge_smtp_data_reply_seconds',
        'Time from the end of DATA to the reply (spool commit plus the try-then-hold wait).',
        LATENCY_BUCKETS_S,
      ),
    );
    r.add(
      new Gauge(
        'bridge_edge_spool_messages',
        'Spool entries by state (done = finished records kept for the status page).',
        () => {
          const depth = src.spoolStats().depth;
          return SPOOL_STATES.map((state): [Labels, number] => [{ state }, depth[state]]);
        },
      ),
    );
    r.add(
      new Gauge(
        'bridge_edge_spool_bytes',
        'Bytes of messages held in the spool, including messages being received.',
        () => src.spoolStats().bytes,
      ),
    );
    r.add(
      new Gauge(
        'bridge_edge_spool_quota_bytes',
        'Spool quota (BRIDGE_SPOOL_MAX_BYTES).',
        () => src.spoolStats().quotaBytes,
      ),
    );
    r.add(
      new Gauge(
        'bridge_edge_spool_oldest_waiting_age_seconds',
        'Age of the oldest message still waiting for the function (0 when none waits).',
        () => src.spoolStats().oldestWaitingAgeMs / 1000,
      ),
    );
    r.add(
      new Gauge(
        'bridge_edge_function_last_answer_timestamp_seconds',
        'Unix time of the last answer from the function (0: none since start).',
        () => src.reachability.lastAnswerSeconds(),
      ),
    );
    r.add(
      new Gauge(
        'bridge_edge_function_consecutive_failures',
        'Forward attempts in a row that got no usable answer from the function.',
        () => src.reachability.snapshot().consecutiveFailures,
      ),
    );
    r.add(
      new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () =>
        process.memoryUsage.rss(),
      ),
    );
    r.add(
      new Gauge('process_cpu_seconds_total', 'User and system CPU time spent in seconds.', () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      }),
    );
    const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
    r.add(
      new Gauge(
        'process_start_time_seconds',
        'Start time of the process since unix epoch in seconds.',
        () => startSeconds,
      ),
    );

    this.accepted.declare();
    this.acceptedBytes.declare();
    this.connections.declare();
    this.authFailures.declare();
    for (const outcome of OUTCOMES) this.outcomes.declare({ outcome });
    this.#subscribe(src);
  }

  render(): string {
    return this.#registry.render();
  }

  #subscribe(src: EdgeMetricsSources): void {
    const { events, reachability } = src;
    events.on('connected', () => this.connections.inc());
    events.on('accepted', (e) => {
      this.accepted.inc();
      this.acceptedBytes.inc({}, e.bytes);
      if (e.reply && e.why) this.replyHold.inc({ reply: e.reply, reason: e.why });
    });
    events.on('refused', (e) => {
      this.refused.inc({ stage: e.stage, code: e.code });
      if (e.stage === 'auth') this.authFailures.inc();
    });
    events.on('outcome', (e) => {
      this.outcomes.inc({ outcome: e.kind });
      this.forwardSeconds.observe(e.durationMs / 1000);
      reachability.record(e);
    });
    events.on('replied', (e) => {
      this.replies.inc({ class: `${Math.floor(e.code / 100)}xx` });
      this.replySeconds.observe(e.durationMs / 1000);
    });
  }
}
