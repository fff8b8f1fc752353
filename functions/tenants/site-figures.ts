import type { TableClient } from '@azure/data-tables';

import { toStorageError } from '../state/storage-errors';

/**
 * Per-site figures for `tenant show` / `site show`, read from the message state records (one partition per
 * site): how many are sent, queued, held (queued because the tenant withdrew consent), failed, and the
 * latest error. A partition scan: an admin's question, not a hot path.
 */
export interface Figures {
  sent: number;
  queued: number;
  held: number;
  failed: number;
  received: number;
  lastError?: { code: string; at: string; reason?: string };
}

export function emptyFigures(): Figures {
  return { sent: 0, queued: 0, held: 0, failed: 0, received: 0 };
}

interface StateRow {
  state?: string;
  errorCode?: string;
  reason?: string;
  updatedAt?: string;
}

export async function siteFigures(stateTable: TableClient, siteId: string): Promise<Figures> {
  const f = emptyFigures();
  try {
    for await (const row of stateTable.listEntities<StateRow>({
      queryOptions: {
        filter: `PartitionKey eq '${siteId.replace(/'/g, "''")}'`,
        select: ['state', 'errorCode', 'reason', 'updatedAt'],
      },
    })) {
      if (row.state === 'queued' && row.errorCode === 'TENANT_CONSENT_REVOKED') f.held++;
      else if (
        row.state === 'sent' ||
        row.state === 'queued' ||
        row.state === 'failed' ||
        row.state === 'received'
      )
        f[row.state]++;
      if (row.errorCode && row.updatedAt && (!f.lastError || row.updatedAt > f.lastError.at)) {
        f.lastError = {
          code: row.errorCode,
          at: row.updatedAt,
          ...(row.reason ? { reason: row.reason } : {}),
        };
      }
    }
  } catch (err) {
    throw toStorageError(err, 'read site figures');
  }
  return f;
}

export function addFigures(a: Figures, b: Figures): Figures {
  const out: Figures = {
    sent: a.sent + b.sent,
    queued: a.queued + b.queued,
    held: a.held + b.held,
    failed: a.failed + b.failed,
    received: a.received + b.received,
  };
  const last = [a.lastError, b.lastError]
    .filter((e) => e !== undefined)
    .sort((x, y) => (x.at < y.at ? 1 : -1))[0];
  if (last) out.lastError = last;
  return out;
}
