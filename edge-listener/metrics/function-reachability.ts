import type { EdgeEventMap } from '../events';

type Outcome = EdgeEventMap['outcome'][0];

/** Error codes of an attempt that got no usable answer from the function (network, wrong URL or key, 5xx). */
const NO_ANSWER_CODES = new Set(['FUNCTION_UNREACHABLE', 'FUNCTION_BAD_RESPONSE', 'MESSAGE_EXPIRED']);

export interface ReachabilitySnapshot {
  /** unknown: no attempt since start; ok: the last attempt got an answer; unreachable: it did not. */
  status: 'unknown' | 'ok' | 'unreachable';
  lastAnswerAt?: string;
  lastFailureAt?: string;
  lastFailureCode?: string;
  /** Attempts in a row without an answer. */
  consecutiveFailures: number;
}

/**
 * When the function last answered, learned passively from forward outcomes: no probe requests of its own
 * (they would cost function executions and prove less than real messages do). A deferral with a Graph or
 * throttling code still counts as an answer — the function is there, Microsoft 365 is the problem.
 */
export class FunctionReachability {
  #lastAnswerMs: number | undefined;
  #lastFailureMs: number | undefined;
  #lastFailureCode: string | undefined;
  #consecutiveFailures = 0;

  record(outcome: Outcome, nowMs = Date.now()): void {
    const answered =
      outcome.kind !== 'deferred' && outcome.kind !== 'failed'
        ? true
        : !NO_ANSWER_CODES.has(outcome.code ?? '');
    if (answered) {
      this.#lastAnswerMs = nowMs;
      this.#consecutiveFailures = 0;
    } else {
      this.#lastFailureMs = nowMs;
      this.#lastFailureCode = outcome.code;
      this.#consecutiveFailures++;
    }
  }

  /** Unix seconds of the last answer, 0 before the first (for the gauge). */
  lastAnswerSeconds(): number {
    return this.#lastAnswerMs === undefined ? 0 : this.#lastAnswerMs / 1000;
  }

  snapshot(): ReachabilitySnapshot {
    const status =
      this.#consecutiveFailures > 0 ? 'unreachable' : this.#lastAnswerMs === undefined ? 'unknown' : 'ok';
    const s: ReachabilitySnapshot = { status, consecutiveFailures: this.#consecutiveFailures };
    if (this.#lastAnswerMs !== undefined) s.lastAnswerAt = new Date(this.#lastAnswerMs).toISOString();
    if (this.#lastFailureMs !== undefined) s.lastFailureAt = new Date(this.#lastFailureMs).toISOString();
    if (this.#lastFailureCode !== undefined) s.lastFailureCode = this.#lastFailureCode;
    return s;
  }
}
