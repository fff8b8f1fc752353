/**
 * What one doctor check reports. `summary` is a plain sentence about what was found; `fix` says what to do
 * and is present whenever the check failed or warns. `skip` means the check could not run because something
 * it depends on failed (the failing check carries the fix). `warn`: works, but not as intended (e.g. a
 * tenant-wide grant that makes a mailbox scope moot); it does not make the bridge unhealthy.
 */
export type CheckStatus = 'pass' | 'fail' | 'skip' | 'warn';

export interface CheckResult {
  /** Stable id for scripts (`--json`), e.g. `smtp-listening`, `sender-mailbox`. */
  id: string;
  title: string;
  status: CheckStatus;
  summary: string;
  fix?: string;
  /** Facts behind the verdict for `--json` (never secrets, tokens or message content). */
  details?: Record<string, unknown>;
}

export function pass(
  id: string,
  title: string,
  summary: string,
  details?: Record<string, unknown>,
): CheckResult {
  return { id, title, status: 'pass', summary, ...(details ? { details } : {}) };
}

export function fail(
  id: string,
  title: string,
  summary: string,
  fix: string,
  details?: Record<string, unknown>,
): CheckResult {
  return { id, title, status: 'fail', summary, fix, ...(details ? { details } : {}) };
}

export function skip(id: string, title: string, summary: string): CheckResult {
  return { id, title, status: 'skip', summary };
}

export function warn(
  id: string,
  title: string,
  summary: string,
  fix: string,
  details?: Record<string, unknown>,
): CheckResult {
  return { id, title, status: 'warn', summary, fix, ...(details ? { details } : {}) };
}
