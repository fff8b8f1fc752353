/**
 * Size rules of Outlook on Microsoft Graph (docs/design/platform-facts.md §A1–A2), in one place so the mailer and its tests
 * agree on them.
 */

/** Our budget for one JSON or MIME request (Graph's documented-by-folklore cap is about 4 MB). */
export const DEFAULT_MAX_REQUEST_BYTES = 4_000_000;

/**
 * Attachments from this size on go through an upload session; smaller ones are POSTed whole. "3 MB" in the
 * docs; createUploadSession refuses smaller files (ErrorAttachmentSizeShouldNotBeLessThanMinimumSize, observed
 * minimum 2 MiB) and a POST fails once its request passes about 4 MiB (largest reported: 3,145,611 bytes), so
 * 3,000,000 is safely inside both.
 */
export const UPLOAD_SESSION_MIN_BYTES = 3_000_000;

/** Outlook accepts "up to 4 MB" per upload-session PUT; there is no 320 KiB multiple rule (that is OneDrive). */
export const MAX_UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;

/** Length of the base64 text for n bytes (no line breaks, with padding). */
export function base64Length(n: number): number {
  return 4 * Math.ceil(n / 3);
}
