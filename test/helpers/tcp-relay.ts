import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay with a target that can be changed: the edge keeps one function URL while a test restarts the
 * function host (new port) behind it — as an admin changing app settings restarts the function app. It can
 * also be switched off: while `up` is false every connection is reset at once, what the edge sees when the
 * function app is stopped or unreachable.
 */
export class TcpRelay {
  target: URL;
  up = true;
  readonly #server: Server;
  readonly #open = new Set<Socket>();

  private constructor(target: string) {
    this.target = new URL(target);
    this.#server = createServer((client) => {
      if (!this.up) {
        client.resetAndDestroy();
        return;
      }
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.#open.add(s);
        s.once('close', () => this.#open.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.once('close', () => upstream.destroy());
      upstream.once('close', () => client.destroy());
    });
  }

  static async start(target: string): Promise<TcpRelay> {
    const relay = new TcpRelay(target);
    await new Promise<void>((resolve) => relay.#server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get url(): string {
    const a = this.#server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  /** Points new connections at `target` and cuts the open ones (their host is going away). */
  retarget(target: string): void {
    this.target = new URL(target);
    for (const s of this.#open) s.destroy();
  }

  /** Resets new connections and cuts the open ones until `up` is set again. */
  down(): void {
    this.up = false;
    for (const s of this.#open) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.#open) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
