import { BridgeError, bridgeError } from '../../core/errors';

/** HTTP status of an Azure SDK RestError (or undefined for network failures and everything else). */
export function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Any storage failure becomes STORAGE_UNAVAILABLE (retryable): the message is kept and tried again. */
export function toStorageError(err: unknown, operation: string): BridgeError {
  if (err instanceof BridgeError) return err;
  const status = statusOf(err);
  return bridgeError('STORAGE_UNAVAILABLE', {
    detail: `${operation} failed${status ? ` (HTTP ${status})` : ''}`,
    cause: err,
  });
}
