import type { QueueAdmin } from '../admin/queue-admin';
import { registerAdminApi } from '../cli/admin-api';
import { localUrl, newAdminToken, publishAdminEndpoint } from '../cli/admin-endpoint';
import type { EdgeEvents } from '../events';
import type { HttpRouter } from '../http/router';
import type { Spool } from '../spool/spool';
import { EdgeMetrics } from './edge-metrics';
import { FunctionReachability } from './function-reachability';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text';
import { SpoolProbe } from './spool-probe';

export interface OperationsParts {
  router: HttpRouter;
  spool: Spool;
  events: EdgeEvents;
  dataDir: string;
  siteId: string;
  instanceId: string;
  openConnections: () => number;
  /** The queue actions the admin API exposes (shared with the status page). */
  admin: QueueAdmin;
}

export interface Operations {
  metrics: EdgeMetrics;
  /** Extra /healthz fields: spool writable (fails health) and function reachability (informs only). */
  health(): Promise<{ ok: boolean; details: Record<string, unknown> }>;
  /** Once the HTTP server listens: publish the admin endpoint for the CLI (admin-endpoint.ts). */
  published(httpPort: number, bindHost: string): Promise<void>;
}

/**
 * The operations seam of a listener, attached once by startEdgeListener: GET /metrics, the admin API the
 * CLI uses while the listener runs, and the checks /healthz adds. A function that cannot be reached does not
 * make the listener unhealthy — it still takes mail and the spool holds it, and a restart would not help —
 * but a spool it cannot write does.
 */
export function attachOperations(p: OperationsParts): Operations {
  const reachability = new FunctionReachability();
  const metrics = new EdgeMetrics({
    events: p.events,
    spoolStats: () => p.spool.stats(),
    openConnections: p.openConnections,
    reachability,
    siteId: p.siteId,
    instanceId: p.instanceId,
  });
  const probe = new SpoolProbe(p.spool.layout.tmp);
  const token = newAdminToken();

  p.router.add('GET', '/metrics', (_req, res) => {
    const text = metrics.render();
    res.writeHead(200, {
      'content-type': PROMETHEUS_CONTENT_TYPE,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    res.end(text);
  });
  registerAdminApi(p.router, { admin: p.admin, token });

  return {
    metrics,
    health: async () => {
      const spool = await probe.check();
      return { ok: spool.writable, details: { spoolWritable: spool, function: reachability.snapshot() } };
    },
    published: (httpPort, bindHost) =>
      publishAdminEndpoint(p.dataDir, { url: localUrl(bindHost, httpPort), token }),
  };
}
