import { mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { currentOwner, ownerOf } from '../../core/process-alive';
import { ensureSelfSignedCert } from '../../core/self-signed-cert';
import { ensureLocalSecrets } from './local-secrets';
import { type ChildExit, ManagedChild } from './managed-child';
import { assertPortFree, httpOk, PortReservations, tcpAccepts, waitUntilReady } from './readiness';
import type { StackSettings } from './stack-config';
import {
  azuritePlan,
  edgePlan,
  functionHostPlan,
  functionUrl,
  type ProcessPlan,
  REPO_ROOT,
  SANDBOX_ALLOWED_SENDERS,
  sandboxPlan,
  type Wiring,
} from './stack-processes';
import {
  readStackState,
  removeStackState,
  runningStackPid,
  type StackState,
  waitForLeftoverChildren,
  writeStackState,
} from './stack-state';

/**
 * The local stack: Azurite → (sandbox mode: Graph sandbox) → function host → edge listener, each a child
 * process in its own process group, started in that order (each waits for what it needs) and stopped in
 * the reverse order, so the edge finishes its POSTs before the function host goes, and the function host
 * its queue work before storage goes. Any process that exits on its own stops the whole stack.
 */
export interface StackUi {
  /** Runs one start-up step with a progress line. */
  step<T>(label: string, work: () => Promise<T>): Promise<T>;
  /** One output line of a child process. */
  childLine(name: string, line: string): void;
}

export interface StackInfo {
  mode: StackSettings['mode'];
  dataDir: string;
  smtp: { host: string; port: number };
  statusUrl: string;
  functionUrl: string;
  sandboxUrl?: string;
  keptMessagesDir?: string;
  adminTokenFile: string;
  logDir: string;
  /** The sender policy the sandbox applied because the environment set none. */
  sandboxSenderPolicy?: string;
}

export interface RunningStack {
  info: StackInfo;
  /** Settles when a process exits without being asked to. */
  unexpectedExit: Promise<ChildExit>;
  /** Stops every process, last started first. */
  stop(): Promise<void>;
  /** SIGKILL to every process group at once (second Ctrl-C). */
  kill(): void;
}

/** Grace per process between SIGTERM and SIGKILL; the edge's own shutdown bound is shorter. */
const STOP_GRACE_MS = 15_000;

export async function startStack(settings: StackSettings, ui: StackUi): Promise<RunningStack> {
  const { dataDir } = settings;
  const other = runningStackPid(dataDir);
  if (other !== undefined)
    throw new Error(
      `Another \`npm start\` (pid ${other}) is running with ${dataDir}. Stop it first, or use another BRIDGE_DATA_DIR.`,
    );
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });

  const children: ManagedChild[] = [];
  // Ports the stack chose are held until the child that binds them is launched (PortReservations).
  const ports = new PortReservations();
  const freePort = () => ports.reserve();
  const stopAll = async () => {
    await ports.releaseAll();
    for (const child of [...children].reverse()) await child.stop(STOP_GRACE_MS);
    removeStackState(dataDir);
  };
  const launch = (name: string, plan: ProcessPlan): ManagedChild => {
    const child = ManagedChild.start({
      name,
      ...plan,
      cwd: REPO_ROOT,
      logFile: join(logDir, `${name}.log`),
      onLine: (line) => ui.childLine(name, line),
    });
    children.push(child);
    return child;
  };

  try {
    if (readStackState(dataDir)?.children.length)
      await ui.step("Previous run's processes stopping", () => waitForLeftoverChildren(dataDir, 20_000));
    const secrets = await ui.step('Local secrets', async () => ensureLocalSecrets(dataDir));
    const smtpPort = settings.smtp.port || (await freePort());
    const httpPort = settings.http.port || (await freePort());
    if (settings.smtp.port) await assertPortFree(smtpPort, settings.smtp.host, 'SMTP', 'BRIDGE_SMTP_PORT');
    if (settings.http.port)
      await assertPortFree(httpPort, settings.http.host, 'status page', 'BRIDGE_HTTP_PORT');
    const resolved: StackSettings = {
      ...settings,
      smtp: { ...settings.smtp, port: smtpPort },
      http: { ...settings.http, port: httpPort },
    };
    const wiring: Wiring = {
      settings: resolved,
      secrets,
      azurite: { blob: await freePort(), queue: await freePort(), table: await freePort() },
      functionPort: settings.functionPort || (await freePort()),
    };

    // Storage and the sandbox need nothing from each other: start them side by side.
    const storageReady = ui.step('Azurite (storage emulator)', async () => {
      const azuritePorts = Object.values(wiring.azurite);
      await ports.release(...azuritePorts);
      const azurite = launch('azurite', azuritePlan(wiring));
      await waitUntilReady(azurite, 'Azurite', async () =>
        (await Promise.all(azuritePorts.map((p) => tcpAccepts(p)))).every(Boolean),
      );
    });
    const sandboxReady =
      settings.mode !== 'sandbox'
        ? Promise.resolve()
        : ui.step('Graph sandbox (keeps every message instead of sending it)', async () => {
            const tls = await ensureSelfSignedCert(join(dataDir, 'tls'), {
              commonName: 'smtp-graph-bridge (local)',
              altNames: [hostname()],
            });
            const ca = readFileSync(tls.certPath, 'utf8');
            const port = settings.sandboxPort || (await freePort());
            const url = `https://127.0.0.1:${port}`;
            wiring.sandbox = { port, url, certPath: tls.certPath, keyPath: tls.keyPath };
            await ports.release(port);
            const sandbox = launch('sandbox', sandboxPlan(wiring));
            await waitUntilReady(sandbox, 'The Graph sandbox', () => httpOk(`${url}/_sandbox/messages`, ca));
          });
    const started = await Promise.allSettled([storageReady, sandboxReady]);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    await ui.step('Function host (HTTP routes and queue trigger)', async () => {
      await ports.release(wiring.functionPort);
      const host = launch('function', functionHostPlan(wiring));
      await waitUntilReady(host, 'The function host', () => httpOk(`${functionUrl(wiring)}/api/health`));
    });

    const statusHost =
      resolved.http.host === '0.0.0.0' || resolved.http.host === '::' ? '127.0.0.1' : resolved.http.host;
    const statusUrl = `http://${statusHost.includes(':') ? `[${statusHost}]` : statusHost}:${httpPort}/`;
    await ui.step('Edge listener (SMTP, spool, status page)', async () => {
      await ports.release(smtpPort, httpPort);
      const edge = launch('edge', edgePlan(wiring));
      await waitUntilReady(edge, 'The edge listener', () => httpOk(`${statusUrl}healthz`));
    });

    const info: StackInfo = {
      mode: settings.mode,
      dataDir,
      smtp: resolved.smtp,
      statusUrl,
      functionUrl: functionUrl(wiring),
      adminTokenFile: secrets.adminTokenFile,
      logDir,
    };
    if (wiring.sandbox) {
      info.sandboxUrl = wiring.sandbox.url;
      info.keptMessagesDir = join(dataDir, 'graph-sandbox');
      if (!settings.senderPolicySet) info.sandboxSenderPolicy = SANDBOX_ALLOWED_SENDERS;
    }
    const state: StackState = {
      ...currentOwner(),
      startedAt: new Date().toISOString(),
      mode: info.mode,
      smtp: info.smtp,
      statusUrl,
      functionUrl: info.functionUrl,
      adminTokenFile: info.adminTokenFile,
      children: children.map((c) => ({ name: c.name, ...ownerOf(c.pid) })),
    };
    if (wiring.sandbox)
      Object.assign(state, { sandboxUrl: wiring.sandbox.url, sandboxCaFile: wiring.sandbox.certPath });
    writeStackState(dataDir, state);

    const unexpectedExit = Promise.race(
      children.map((c) =>
        c.exited.then((exit) => (c.stopping ? new Promise<ChildExit>(() => undefined) : exit)),
      ),
    );
    return { info, unexpectedExit, stop: stopAll, kill: () => children.forEach((c) => c.kill()) };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
