import { setTimeout as sleep } from 'node:timers/promises';

import { BridgeError } from '../../core/errors';
import type { Logger } from '../../core/log';
import { classifyGraphResponse, classifyTransportError, graphFailureOf } from './classify-graph-failure';
import type { CallMeter } from './graph-transport';
import { putRange, type PutAnswer } from './upload-put';

/**
 * Uploads one attachment through an Outlook upload session: PUT ranges of at most `chunkBytes`, in order, to
 * the pre-authenticated uploadUrl (docs/design/platform-facts.md §A2).
 *
 * - The uploadUrl carries its own authtoken: requests go out with plain node:https (upload-put.ts), never
 *   through the Graph client, so no Authorization header can reach a host that is not Graph.
 * - Each chunk is retried on its own (the SDK's RetryHandler never retries octet-stream bodies, and the
 *   LargeFileUploadTask gives up on the first error), with backoff that honours Retry-After; before a retry
 *   the session is asked where it stands (GET uploadUrl → nextExpectedRanges) so a chunk the server did get
 *   is not sent twice.
 * - Chunks are views into the attachment buffer (subarray): no extra copy of a 100 MB file.
 */

export interface ChunkRetryOptions {
  /** Tries per chunk, the first included. Default 5. */
  attempts?: number;
  /** First backoff without Retry-After; doubles per failure, with jitter. Default 500 ms. */
  baseDelayMs?: number;
  /** Longest wait the uploader accepts; a longer Retry-After ends the upload as GRAPH_THROTTLED. Default 30 s. */
  maxDelayMs?: number;
}

export interface UploadSession {
  uploadUrl: string;
  nextExpectedRanges?: string[];
}

export interface UploadOptions {
  chunkBytes: number;
  timeoutMs: number;
  retry?: ChunkRetryOptions;
  logger: Logger;
  meter: CallMeter;
}

/** Start of the first range in ["12345-", "200-300"] style lists (Outlook answers in PascalCase too). */
export function firstRangeStart(ranges: unknown): number | undefined {
  if (!Array.isArray(ranges) || ranges.length === 0) return undefined;
  const m = /^(\d+)-/.exec(String(ranges[0]));
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

function rangesOf(json: unknown): unknown {
  const o = (json ?? {}) as Record<string, unknown>;
  return o.nextExpectedRanges ?? o.NextExpectedRanges;
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

function failureFrom(res: PutAnswer, json: unknown): BridgeError {
  const requestId = res.header('request-id') ?? undefined;
  return classifyGraphResponse(
    graphFailureOf(res.status, json, res.header('retry-after'), requestId, Date.now()),
  );
}

/** Where the session stands, or undefined when it cannot tell (the caller then keeps its own offset). */
async function resync(url: string, opts: UploadOptions): Promise<number | undefined> {
  try {
    opts.meter.graphCalls += 1;
    const res = await fetch(url, { method: 'GET', signal: AbortSignal.timeout(opts.timeoutMs) });
    const json = parseJson(await res.text());
    return res.ok ? firstRangeStart(rangesOf(json)) : undefined;
  } catch {
    return undefined;
  }
}

export async function uploadInChunks(
  session: UploadSession,
  content: Buffer,
  opts: UploadOptions,
): Promise<void> {
  const attempts = opts.retry?.attempts ?? 5;
  const baseDelayMs = opts.retry?.baseDelayMs ?? 500;
  const maxDelayMs = opts.retry?.maxDelayMs ?? 30_000;
  const size = content.length;
  let offset = firstRangeStart(session.nextExpectedRanges) ?? 0;
  let failures = 0;

  while (offset < size) {
    const end = Math.min(offset + opts.chunkBytes, size);
    const chunk = content.subarray(offset, end);
    let error: BridgeError;
    try {
      opts.meter.graphCalls += 1;
      opts.meter.bytesSent += chunk.length;
      const res = await putRange(
        session.uploadUrl,
        chunk,
        `bytes ${offset}-${end - 1}/${size}`,
        opts.timeoutMs,
      );
      const json = parseJson(res.text);
      if (res.status === 201) return; // the last range: the attachment exists now (Location header)
      if (res.status === 200) {
        offset = firstRangeStart(rangesOf(json)) ?? end;
        failures = 0;
        continue;
      }
      if (res.status === 404) {
        // The session is gone (expired, or completed while an answer was lost): only a new send can tell.
        throw new BridgeError('GRAPH_UNAVAILABLE', {
          detail: 'the upload session no longer exists',
          graph: {
            status: 404,
            ...(res.header('request-id') ? { requestId: res.header('request-id') as string } : {}),
          },
        });
      }
      error = failureFrom(res, json);
      // 416: the server expects another range (an earlier answer was lost); resync below and go on.
      if (res.status !== 416 && !(error.code === 'GRAPH_THROTTLED' || error.code === 'GRAPH_UNAVAILABLE'))
        throw error;
    } catch (e) {
      if (e instanceof BridgeError) throw e;
      error = classifyTransportError(e, { sending: false });
    }

    failures += 1;
    const delayMs =
      error.retryAfterMs ?? Math.round(baseDelayMs * 2 ** (failures - 1) * (0.75 + Math.random() * 0.5));
    if (failures >= attempts || delayMs > maxDelayMs) throw error;
    opts.logger.warn({
      event: 'GRAPH_UPLOAD_CHUNK_RETRY',
      rangeStart: offset,
      rangeEnd: end - 1,
      size,
      attempt: failures + 1,
      code: error.code,
      status: error.graph?.status,
      delayMs,
    });
    await sleep(delayMs);
    offset = (await resync(session.uploadUrl, opts)) ?? offset;
  }
}
