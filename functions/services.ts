import type { Envelope } from '../core/envelope';
import type { TokenFacts } from '../core/diagnostics';
import type { Logger } from '../core/log';
import type { DeliveryChecks, DeliveryPlan, SendReport } from './delivery/delivery-plan';
import type { SentItemsAnswer } from './graph/sent-items';
import type { FunctionConfig } from './config';
import type { MessageStore } from './state/message-store';
import type { OutboundQueue } from './state/outbound-queue';
import type { MailboxPacer } from './pacing/mailbox-pacer';
import type { MimeBytes, MimeSource } from './mime/raw-mime';
import type { SenderPolicy } from './mime/sender-policy';
import type { TenantRegistry } from './tenants/tenant-registry';

/** What the delivery path asks of a mailer (functions/graph/mailer.ts is the real one). */
export interface Mailer {
  send(plan: DeliveryPlan): Promise<SendReport>;
  /** The app's token in the mailer's tenant: proves consent (tenants/tenant-gate.ts, the consent callback). */
  tokenInfo(): Promise<TokenFacts>;
  /** Sent Items look-up by internetMessageId (functions/graph/sent-items.ts). */
  findSent(mailbox: string, internetMessageId: string): Promise<SentItemsAnswer>;
}

export type Planner = (
  /** One Buffer, the chunks the message was read in, or a stream (the queue trigger's blob download). */
  mime: MimeSource,
  envelope: Envelope,
  policy: SenderPolicy,
  opts?: { saveToSentItems?: boolean },
) => Promise<DeliveryPlan>;

/** The Planner's checks and decisions without the content (mime/plan.ts checkDelivery). */
export type Checker = (
  mime: MimeBytes,
  envelope: Envelope,
  policy: SenderPolicy,
  opts?: { saveToSentItems?: boolean },
) => Promise<DeliveryChecks>;

export interface HandlerTuning {
  /** A record untouched this long belongs to a dead attempt (HTTP attempts end within 230 s). */
  attemptStaleMs: number;
  /**
   * The longest an attempt can live (host.json functionTimeout): a stale attempt in the Graph phase may still
   * be sending until then, so the Sent Items window of its unknown outcome starts only after it.
   */
  maxAttemptMs: number;
  /** Delay before the n-th retry of a queued message when Graph named none (last entry repeats). */
  queueRetryDelaysMs: number[];
  /** Longest wait between two attempts when Graph named none (core/custody.ts MAX_RETRY_INTERVAL_MS). */
  maxRetryIntervalMs: number;
  /** First Sent Items look-up this long after the answer was lost (Exchange saves the copy within seconds). */
  sentItemsLagMs: number;
  /** Not found this long after the answer was lost: the message was not sent, send it again. */
  reconcileWindowMs: number;
  /** How long the queue-triggered sender waits in-process for a mailbox slot before re-queueing. */
  pacingWaitMs: number;
  /** The host's maxDequeueCount (host.json); the last delivery of a queue message must record an outcome. */
  maxDequeueCount: number;
  /** While a tenant's consent is revoked, how often one of its held messages tries a token again. */
  tenantProbeMs: number;
}

/**
 * Everything a handler needs, built once per process (function-services.ts builds the real set). Handlers
 * receive a getter for it, so the Functions host, the local host and tests all run the same handler code
 * against their own configuration.
 */
export interface FunctionServices {
  config: FunctionConfig;
  store: MessageStore;
  outbound: OutboundQueue;
  pacer: MailboxPacer;
  /** Tenant and site registry (BRIDGE_REGISTRY_TABLE). */
  registry: TenantRegistry;
  /** The mailer for a tenant (a site's tenantId, else the home tenant); throws CONFIG_INVALID without credentials. */
  mailerFor(tenantId: string | undefined, logger: Logger): Mailer;
  plan: Planner;
  /** What the HTTP intake runs instead of `plan` for a message it will queue, not send. */
  check: Checker;
  /** Storage reachability (deep health). */
  probeStorage(): Promise<void>;
  tuning: HandlerTuning;
  now(): Date;
}

export type ServicesGetter = () => FunctionServices;
