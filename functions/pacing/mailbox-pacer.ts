import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { TableClient } from '@azure/data-tables';

import { addressKey } from '../../core/envelope';
import { statusOf, toStorageError } from '../state/storage-errors';
import {
  emptyBudget,
  releaseLease,
  renewLease,
  tryTake,
  type MailboxBudget,
  type MailboxLimits,
} from './mailbox-budget';

/**
 * Per-mailbox pacing shared by every instance of the function: one table row per mailbox holds the budget
 * (mailbox-budget.ts), and every change is a read-modify-write conditional on the row's ETag, so scaled-out
 * instances never hand out the same slot twice. Rows live in the state table under their own partition.
 */
export const PACING_PARTITION = '~pacing'; // '~' cannot start a site id, so it never meets a message record

export interface MailboxLease {
  readonly mailbox: string;
  /**
   * Gives the slot back once the send is over, answer read (best effort: a lease that cannot be released
   * expires by itself). The send then counts against the mailbox's minute from this moment.
   */
  release(): Promise<void>;
}

export type AcquireResult =
  | { granted: true; lease: MailboxLease }
  | { granted: false; retryAfterMs: number; reason: 'concurrency' | 'rate' | 'contention' };

export interface PacerOptions {
  limits: MailboxLimits;
  /** How long a slot stays taken without renewal; a crashed holder frees it after this. */
  leaseMs?: number;
  nowMs?: () => number;
}

interface BudgetEntity {
  partitionKey: string;
  rowKey: string;
  mailbox: string;
  budgetJson: string;
}

const MAX_WRITE_TRIES = 10;

export class MailboxPacer {
  readonly #table: TableClient;
  readonly #ready: () => Promise<void>;
  readonly #limits: MailboxLimits;
  readonly #leaseMs: number;
  readonly #now: () => number;

  constructor(table: TableClient, ensureCreated: () => Promise<void>, options: PacerOptions) {
    this.#table = table;
    this.#ready = ensureCreated;
    this.#limits = options.limits;
    this.#leaseMs = options.leaseMs ?? 10 * 60_000;
    this.#now = options.nowMs ?? Date.now;
  }

  /** Takes a slot now or says how long to wait; waits in-process only while the wait fits `maxWaitMs`. */
  async acquire(mailbox: string, maxWaitMs = 0): Promise<AcquireResult> {
    const deadline = this.#now() + maxWaitMs;
    for (;;) {
      const result = await this.#tryAcquire(mailbox);
      if (result.granted || this.#now() + result.retryAfterMs > deadline) return result;
      await sleep(result.retryAfterMs);
    }
  }

  async #tryAcquire(mailbox: string): Promise<AcquireResult> {
    const leaseId = randomUUID();
    let denied: AcquireResult | undefined;
    let grantedMs = 0;
    const written = await this.#modify(mailbox, (budget, nowMs) => {
      const take = tryTake(budget, this.#limits, nowMs, leaseId, this.#leaseMs);
      grantedMs = nowMs; // the last call is the one written
      if (take.granted) return take.next;
      denied = { granted: false, retryAfterMs: take.retryAfterMs, reason: take.reason };
      return undefined;
    });
    if (denied) return denied;
    if (!written)
      return { granted: false, retryAfterMs: 250 + Math.floor(Math.random() * 250), reason: 'contention' };
    return { granted: true, lease: this.#lease(mailbox, leaseId, grantedMs) };
  }

  #lease(mailbox: string, leaseId: string, grantedMs: number): MailboxLease {
    // Renew well before expiry so a long upload keeps its slot; unref'd so it never holds the process open.
    const timer = setInterval(
      () => {
        void this.#modify(mailbox, (b, nowMs) => renewLease(b, leaseId, nowMs, this.#leaseMs)).catch(
          () => undefined,
        );
      },
      Math.max(1000, Math.floor(this.#leaseMs / 3)),
    );
    timer.unref();
    let released = false;
    return {
      mailbox,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        // The send ends now: from here it holds its place in the rate log for a whole minute (mailbox-budget.ts).
        await this.#modify(mailbox, (b, nowMs) => releaseLease(b, leaseId, nowMs, grantedMs)).catch(
          () => undefined,
        );
      },
    };
  }

  /**
   * Read-modify-write of one mailbox row with ETag concurrency; `change` returns the new budget or
   * undefined to leave the row alone. Returns false when every try lost a race.
   */
  async #modify(
    mailbox: string,
    change: (budget: MailboxBudget, nowMs: number) => MailboxBudget | undefined,
  ): Promise<boolean> {
    await this.#ready();
    const rowKey = mailboxRowKey(mailbox);
    for (let i = 0; i < MAX_WRITE_TRIES; i++) {
      const { budget, etag } = await this.#read(rowKey);
      const next = change(budget, this.#now());
      if (!next) return true;
      const entity: BudgetEntity = {
        partitionKey: PACING_PARTITION,
        rowKey,
        mailbox: addressKey(mailbox),
        budgetJson: JSON.stringify(next),
      };
      try {
        if (etag) await this.#table.updateEntity(entity, 'Replace', { etag });
        else await this.#table.createEntity(entity);
        return true;
      } catch (err) {
        const status = statusOf(err);
        if (status !== 412 && status !== 409 && status !== 404)
          throw toStorageError(err, 'update mailbox pacing');
        await sleep(5 + Math.floor(Math.random() * 20 * (i + 1))); // another instance won; read again
      }
    }
    return false;
  }

  async #read(rowKey: string): Promise<{ budget: MailboxBudget; etag?: string }> {
    try {
      const e = await this.#table.getEntity<BudgetEntity>(PACING_PARTITION, rowKey);
      return { budget: parseBudget(e.budgetJson), etag: e.etag };
    } catch (err) {
      if (statusOf(err) === 404) return { budget: emptyBudget() };
      throw toStorageError(err, 'read mailbox pacing');
    }
  }
}

/** Row keys may not contain '/', '\\', '#' or '?'; a hash of the case-insensitive address has none. */
export function mailboxRowKey(mailbox: string): string {
  return createHash('sha256').update(addressKey(mailbox)).digest('hex');
}

function parseBudget(json: string | undefined): MailboxBudget {
  try {
    const v = JSON.parse(json ?? '') as Partial<MailboxBudget>;
    return { leases: v.leases ?? {}, startsMs: Array.isArray(v.startsMs) ? v.startsMs : [] };
  } catch {
    return emptyBudget(); // a corrupt row must not stop sending; it is rewritten on the next change
  }
}
