/**
 * A handler whose module is imported at its first invocation, not when the app loads. The function app's
 * entry registers every function at start-up, and a cold start pays for every module the entry imports
 * (docs/design/cold-start.md): the Azure SDKs, mailparser and zod behind the handlers cost several hundred
 * milliseconds that only the invocation needs. `load` imports the module and builds the handler; it runs
 * once, and a failed import is retried on the next invocation rather than remembered.
 */
export function lazyHandler<A extends unknown[], R>(
  load: () => Promise<(...args: A) => R | Promise<R>>,
): (...args: A) => Promise<R> {
  let pending: Promise<(...args: A) => R | Promise<R>> | undefined;
  return async (...args: A) => {
    pending ??= load().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    const handler = await pending;
    return await handler(...args);
  };
}
