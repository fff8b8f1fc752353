import { EventEmitter } from 'node:events';

import type { HoldReason } from './forward/reply-hold-policy';

/**
 * What happens to messages, as events for counters (the /metrics and status page seam). Logging stays in
 * the modules; these carry no addresses or content, only ids, sizes, codes and timings.
 */
export interface EdgeEventMap {
  /** An SMTP client passed the allow-list and per-address limits (its connection is open). */
  connected: [{ tls: boolean }];
  /**
   * A message is durably in the spool (before the client gets any reply); `reply` says whether the reply waits
   * for the function (held) or goes out now (commit), `why` the reply-hold policy's reason.
   */
  accepted: [{ id: string; bytes: number; rcpts: number; reply?: 'held' | 'commit'; why?: HoldReason }];
  /** The SMTP intake refused something (connection, AUTH, MAIL, RCPT or DATA). */
  refused: [{ stage: 'connect' | 'auth' | 'mail' | 'rcpt' | 'data'; code: string }];
  /** The end of one forward attempt. `failed` = kept in the spool as failed; `rejected` = the client got the 5xx. */
  outcome: [
    {
      id: string;
      kind: 'sent' | 'queued' | 'deferred' | 'rejected' | 'failed';
      attempt: number;
      durationMs: number;
      code?: string;
    },
  ];
  /** Time from the end of DATA to the SMTP reply. */
  replied: [{ id: string; code: number; durationMs: number }];
}

export class EdgeEvents extends EventEmitter<EdgeEventMap> {}
