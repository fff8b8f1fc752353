'use strict';
/**
 * Preloaded (`node --require`) into every process `npm start` spawns. The stack stops its children itself on
 * Ctrl-C; this covers the case where it cannot — it was killed (SIGKILL, OOM) or crashed. The children run in
 * their own process groups, so nothing else would stop them; the IPC channel to the stack closes when the
 * stack dies, and the child then stops itself the graceful way (SIGTERM runs its own shutdown).
 *
 * Plain CommonJS on purpose: Azurite is plain JavaScript and starts faster without the TypeScript loader.
 */
const channel = process.channel;
if (channel) {
  // The channel must not keep the child alive by itself; nothing is ever sent over it.
  channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
