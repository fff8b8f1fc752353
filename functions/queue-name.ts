/**
 * BRIDGE_QUEUE_NAME's rule and default, without zod: the app's entry needs the queue name to register the
 * queue trigger at start-up, and importing the settings schema (config.ts) there would put zod on the cold
 * start path (docs/design/cold-start.md). config.ts validates the same setting with these.
 */
export const DEFAULT_QUEUE_NAME = 'bridge-outbound';
export const QUEUE_NAME_PATTERN = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * The queue the trigger listens on. An invalid name falls back to the default so that registration still
 * happens; every invocation then reports CONFIG_INVALID from the full settings check.
 */
export function registeredQueueName(env: Record<string, string | undefined>): string {
  const name = env.BRIDGE_QUEUE_NAME;
  return name !== undefined && QUEUE_NAME_PATTERN.test(name) ? name : DEFAULT_QUEUE_NAME;
}
