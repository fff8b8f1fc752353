import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay between the edge and the function host that a test can switch off: while down, every
 * connection is reset at once — what the edge sees when the function app is stopped or unreachable — and
 * connections already open are cut. Up again, it relays to the real host.
 */
export class FunctionSwitch {
  up = true;
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #port = 0;

  private constructor(target: URL) {
    this.#server = createServer((client) => {
      if (!this.up) {
        client.resetAndDestroy();
        return;
      }
      const upstream = connect(Number(target.port), target.hostname);
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

  static async start(targetUrl: string): Promise<FunctionSwitch> {
    const relay = new FunctionSwitch(new URL(targetUrl));
    await new Promise<void>((resolve) => relay.#server.listen(0, '127.0.0.1', resolve));
    const address = relay.#server.address();
    relay.#port = typeof address === 'object' && address ? address.port : 0;
    return relay;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  down(): void {
    this.up = false;
    for (const s of this.#open) s.destroy();
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
