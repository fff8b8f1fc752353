/**
 * The name of the queue-triggered delivery function, in a module of its own so that the app's entry can
 * register it without importing the delivery code (functions/lazy-handler.ts, docs/design/cold-start.md).
 */
export const SEND_QUEUED_FUNCTION = 'sendQueued';
