import type { SandboxFault, SandboxRoute } from './options';
import { entraError, graphError, type Reply } from './reply';
import type { RequestContext } from './request-context';

/** Faults waiting for their requests: the first pending fault matching route (and mailbox) is used up. */
export class FaultQueue {
  readonly #pending: Array<SandboxFault & { left: number; skip: number }> = [];

  add(fault: SandboxFault): void {
    this.#pending.push({ ...fault, left: fault.times ?? 1, skip: fault.after ?? 0 });
  }

  take(route: SandboxRoute, mailbox: string | undefined): SandboxFault | undefined {
    const i = this.#pending.findIndex(
      (f) =>
        (f.route === '*' || f.route === route) &&
        (f.mailbox === undefined || f.mailbox.toLowerCase() === mailbox?.toLowerCase()),
    );
    const fault = this.#pending[i];
    if (!fault) return undefined;
    if (fault.skip > 0) {
      fault.skip -= 1;
      return undefined;
    }
    fault.left -= 1;
    if (fault.left <= 0) this.#pending.splice(i, 1);
    return fault;
  }

  clear(): void {
    this.#pending.length = 0;
  }
}

/** Concurrent requests per mailbox (Exchange allows 4 per app and mailbox, docs/design/platform-facts.md §A3). */
export class MailboxSlots {
  readonly #inUse = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** A release function, or undefined when the mailbox is at its limit. */
  acquire(mailbox: string): (() => void) | undefined {
    const key = mailbox.toLowerCase();
    const n = this.#inUse.get(key) ?? 0;
    if (n >= this.limit) return undefined;
    this.#inUse.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#inUse.get(key) ?? 1) - 1;
      if (left <= 0) this.#inUse.delete(key);
      else this.#inUse.set(key, left);
    };
  }
}

function defaultFaultCode(status: number): string {
  if (status === 429) return 'TooManyRequests';
  if (status === 503) return 'ServiceUnavailable';
  if (status === 504) return 'GatewayTimeout';
  if (status >= 500) return 'InternalServerError';
  return 'BadRequest';
}

/** The answer a `respond` fault gives: Entra-shaped on the token endpoint, Graph-shaped everywhere else. */
export function faultReply(ctx: RequestContext, route: SandboxRoute, f: SandboxFault): Reply {
  const status = f.status ?? 503;
  const headers = f.retryAfterSec !== undefined ? { 'Retry-After': String(f.retryAfterSec) } : undefined;
  if (route === 'token') {
    const reply = entraError(
      ctx,
      status,
      f.code ?? 'temporarily_unavailable',
      50196,
      f.message ?? 'The server is temporarily unavailable.',
    );
    return headers ? { ...reply, headers } : reply;
  }
  return graphError(
    ctx,
    status,
    f.code ?? defaultFaultCode(status),
    f.message ?? 'Injected by the Graph sandbox.',
    headers,
  );
}
