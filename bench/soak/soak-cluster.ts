import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ensureSelfSignedCert } from '../../core/self-signed-cert';
import { startGraphSandbox } from '../../dev/graph-sandbox/sandbox';
import type { GraphSandbox, SandboxMessage, SandboxOptions } from '../../dev/graph-sandbox/options';
import { ensureLocalSecrets, type LocalSecrets } from '../../scripts/stack/local-secrets';
import { ManagedChild } from '../../scripts/stack/managed-child';
import { httpOk, PortReservations, tcpAccepts, waitUntilReady } from '../../scripts/stack/readiness';
import {
  azuritePlan,
  edgePlan,
  functionHostPlan,
  functionUrl,
  type ProcessPlan,
  REPO_ROOT,
  type Wiring,
} from '../../scripts/stack/stack-processes';

/**
 * The processes of a soak run, as `npm start` wires them (scripts/stack/stack-processes.ts): Azurite, the
 * local function host and the edge listener as child processes (each can be SIGKILLed and started again on
 * the same ports and data), and the Graph sandbox in this process — it stands for Microsoft's side, and its
 * fault queue and kept messages are what the soak injects into and counts.
 */
export type Role = 'azurite' | 'function' | 'edge';

export interface ClusterOptions {
  workDir: string;
  /** Where the edge's spool lives (a small tmpfs for the disk-full episode, or under workDir). */
  spoolDir: string;
  /** Extra edge settings (retry schedule, budget, capacity). */
  edgeEnv: Record<string, string>;
  /** Extra function app settings (pacing limits). */
  functionEnv: Record<string, string>;
  /** SOAK_FUNCTION_TUNING for bench/soak/soak-function-host.ts. */
  functionTuning: Record<string, unknown>;
  /**
   * Which function host: the soak's (shortened waits, default) or `stock`, the one `npm start` runs
   * (dev/function-host/host-main.ts with the function's own defaults; functionTuning is then unused).
   */
  functionHost?: 'soak' | 'stock';
  /** Sandbox options over the soak's (e.g. Exchange's mailboxConcurrency of 4, a logger). */
  sandbox?: Partial<Omit<SandboxOptions, 'cert' | 'key'>>;
  /** What `delivered` counts deliveries by (default the subject). */
  deliveryKey?: (m: SandboxMessage) => string;
  /** Called once for each message the sandbox keeps (from the same scan as `delivered`). */
  onMessage?: (m: SandboxMessage) => void;
  /** Access-token lifetime of the sandbox; short, so a token outage is felt. */
  tokenLifetimeSec: number;
  keptMessages: number;
}

export class SoakCluster {
  readonly graph: GraphSandbox;
  readonly smtpPort: number;
  readonly httpPort: number;
  readonly #o: ClusterOptions;
  readonly #wiring: Wiring;
  readonly #children = new Map<Role, ManagedChild>();
  readonly #peakRssKb = new Map<Role, number>();
  readonly restarts: Record<Role, number> = { azurite: 0, function: 0, edge: 0 };
  /**
   * Deliveries by subject, counted from the sandbox's kept messages as they arrive (each sandbox message once):
   * the sandbox keeps a bounded number in memory, oldest dropped first, so counting at the end would miss some.
   */
  readonly delivered = new Map<string, number>();
  readonly #seen = new Set<string>();
  #sampler: NodeJS.Timeout | undefined;
  #ledger: NodeJS.Timeout | undefined;

  private constructor(o: ClusterOptions, graph: GraphSandbox, wiring: Wiring) {
    this.#o = o;
    this.graph = graph;
    this.#wiring = wiring;
    this.smtpPort = wiring.settings.smtp.port;
    this.httpPort = wiring.settings.http.port;
  }

  static async start(o: ClusterOptions): Promise<SoakCluster> {
    const tls = await ensureSelfSignedCert(join(o.workDir, 'tls'), { commonName: 'smtp-graph-bridge soak' });
    const graph = await startGraphSandbox({
      cert: readFileSync(tls.certPath, 'utf8'),
      key: readFileSync(tls.keyPath, 'utf8'),
      maxKeptMessages: o.keptMessages,
      tokenLifetimeSec: o.tokenLifetimeSec,
      // many messages from one sender: the soak is about custody, not about Exchange's concurrency limit
      mailboxConcurrency: 64,
      ...o.sandbox,
    });
    const ports = new PortReservations();
    const secrets: LocalSecrets = ensureLocalSecrets(o.workDir);
    const [smtp, http, blob, queue, table, fn] = [
      await ports.reserve(),
      await ports.reserve(),
      await ports.reserve(),
      await ports.reserve(),
      await ports.reserve(),
      await ports.reserve(),
    ] as number[];
    await ports.releaseAll(); // the children bind them now; they keep them across restarts
    const wiring: Wiring = {
      settings: {
        dataDir: o.spoolDir,
        siteId: 'soak',
        mode: 'sandbox',
        smtp: { host: '127.0.0.1', port: smtp! },
        http: { host: '127.0.0.1', port: http! },
        functionPort: fn!,
        sandboxPort: 0,
        senderPolicySet: false,
        inheritedEnv: { ...process.env },
      },
      secrets,
      azurite: { blob: blob!, queue: queue!, table: table! },
      functionPort: fn!,
      sandbox: { port: 0, url: graph.url, certPath: tls.certPath, keyPath: tls.keyPath },
    };
    const cluster = new SoakCluster(o, graph, wiring);
    try {
      await cluster.launch('azurite');
      await cluster.launch('function');
      await cluster.launch('edge');
    } catch (e) {
      await cluster.close();
      throw e;
    }
    cluster.#sampler = setInterval(() => cluster.sampleRss(), 1000);
    cluster.#sampler.unref();
    cluster.#ledger = setInterval(() => cluster.countDeliveries(), 250);
    cluster.#ledger.unref();
    return cluster;
  }

  #plan(role: Role): ProcessPlan {
    const w = this.#wiring;
    if (role === 'azurite') {
      const plan = azuritePlan(w);
      // Azurite's data beside the work dir, not on the (possibly tiny) spool file system
      const at = plan.args.indexOf('--location');
      plan.args[at + 1] = join(this.#o.workDir, 'azurite');
      return plan;
    }
    if (role === 'function') {
      const plan = functionHostPlan(w);
      if (this.#o.functionHost === 'stock') return { ...plan, env: { ...plan.env, ...this.#o.functionEnv } };
      return {
        ...plan,
        script: join(REPO_ROOT, 'bench', 'soak', 'soak-function-host.ts'),
        env: {
          ...plan.env,
          ...this.#o.functionEnv,
          SOAK_FUNCTION_TUNING: JSON.stringify(this.#o.functionTuning),
        },
      };
    }
    const plan = edgePlan(w);
    return {
      ...plan,
      env: {
        ...plan.env,
        BRIDGE_SANDBOX_URL: undefined,
        BRIDGE_INSTANCE_ID: 'soak',
        BRIDGE_LOG_LEVEL: 'warn',
        ...this.#o.edgeEnv,
      },
    };
  }

  async launch(role: Role): Promise<void> {
    const child = ManagedChild.start({
      name: role,
      ...this.#plan(role),
      cwd: REPO_ROOT,
      logFile: join(this.#o.workDir, `${role}.log`),
    });
    this.#children.set(role, child);
    const w = this.#wiring;
    if (role === 'azurite')
      await waitUntilReady(child, 'Azurite', async () =>
        (await Promise.all(Object.values(w.azurite).map((p) => tcpAccepts(p)))).every(Boolean),
      );
    else if (role === 'function')
      await waitUntilReady(child, 'The function host', () => httpOk(`${functionUrl(w)}/api/health`));
    else await waitUntilReady(child, 'The edge', () => httpOk(`http://127.0.0.1:${this.httpPort}/healthz`));
  }

  /** SIGKILL (no shutdown at all), wait until it is gone, start it again on the same ports and data. */
  async killAndRestart(role: Role, downMs = 0): Promise<void> {
    const child = this.#children.get(role);
    if (child) {
      this.sampleRss();
      child.kill();
      await child.exited.catch(() => undefined);
    }
    this.restarts[role] += 1;
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch(role);
  }

  /** Stops a process the way `npm start` stops it (SIGTERM, its own shutdown) and starts it again. */
  async restart(role: Role): Promise<void> {
    this.sampleRss();
    await this.#children.get(role)?.stop(15_000);
    this.restarts[role] += 1;
    await this.launch(role);
  }

  countDeliveries(): void {
    const keyOf = this.#o.deliveryKey ?? ((m: SandboxMessage) => m.subject);
    for (const m of this.graph.messages()) {
      if (this.#seen.has(m.id)) continue;
      this.#seen.add(m.id);
      const key = keyOf(m);
      this.delivered.set(key, (this.delivered.get(key) ?? 0) + 1);
      this.#o.onMessage?.(m);
    }
  }

  pid(role: Role): number | undefined {
    return this.#children.get(role)?.pid;
  }

  /** Peak RSS per role (kB): the highest VmHWM of any of its lives, sampled every second and before a kill. */
  sampleRss(): void {
    for (const [role, child] of this.#children) {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        this.#peakRssKb.set(role, Math.max(this.#peakRssKb.get(role) ?? 0, hwm));
      } catch {
        // gone, or no /proc: nothing to sample
      }
    }
  }

  peakRssMb(): Record<string, number> {
    this.sampleRss();
    const out: Record<string, number> = {};
    for (const [role, kb] of this.#peakRssKb) out[role] = Math.round(kb / 1024);
    out.harness = Math.round(process.resourceUsage().maxRSS / 1024);
    return out;
  }

  async close(): Promise<void> {
    clearInterval(this.#sampler);
    clearInterval(this.#ledger);
    for (const role of ['edge', 'function', 'azurite'] as const) await this.#children.get(role)?.stop(10_000);
    await this.graph.close();
  }
}
