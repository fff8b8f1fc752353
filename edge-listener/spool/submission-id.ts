/**
 * The idempotency key a spooled message is posted under. The function records each id's outcome and answers
 * a repeated id with it, never sending twice — so a message it failed for good (a sender not allowed yet,
 * RBAC not granted yet) can only go out again under a NEW id. An admin retry of such an entry asks for that
 * explicitly: it bumps `resubmissions` in the entry's meta (persisted before the attempt), and every post
 * from then on uses `<spoolId>.r<n>`. Automatic retries keep the id, which is what makes them safe.
 *
 * Spool ids never contain '.', so the suffix cannot collide with another spool id; the result stays inside
 * core/envelope.ts MESSAGE_ID_PATTERN (a spool id is at most 52 characters).
 */
export function submissionId(spoolId: string, resubmissions: number | undefined): string {
  return resubmissions ? `${spoolId}.r${resubmissions}` : spoolId;
}
