import type { Envelope } from '../../core/envelope';
import { WIRE_PATH, type WireResult } from '../../core/wire';
import type { FunctionConfig } from '../../functions/config';
import { createFunctionServices, type ServiceOverrides } from '../../functions/function-services';
import { startLocalFunctionHost, type LocalFunctionHost } from '../../dev/function-host/host';
import type { SandboxMessage } from '../../dev/graph-sandbox/options';
import type { GraphSandbox, SandboxOptions } from './fake-graph';
import {
  FAST_TUNING,
  frame,
  signedPostHeaders,
  SITE,
  SITE_SECRET,
  startKit,
} from '../functions/function-test-kit';
import { startGraphGate, type GraphGate } from './e2e-graph-gate';

/**
 * The cloud half of the end-to-end tests, all real parts: the Graph sandbox (https fake of Entra + Graph),
 * Azurite, and the local function host serving the real handlers over HTTP with the queue trigger running.
 * The edge (in-process or as a child process) is pointed at `url` with `siteId`/`siteSecret`/`functionKey`.
 */
export const E2E_FUNCTION_KEY = 'e2e-function-key-0123456789abcdef';

export interface FunctionStack {
  graph: GraphSandbox;
  /** The gate between the function and Graph, when started with `gate: true`. */
  gate?: GraphGate;
  host: LocalFunctionHost;
  config: FunctionConfig;
  /** Base URL of the local function host (routes under /api), what the edge's forward URL points at. */
  url: string;
  siteId: string;
  siteSecret: string;
  functionKey: string;
  /** One signed POST /api/v1/messages, as the edge sends it. */
  post(envelope: Envelope, mime: Buffer): Promise<{ status: number; body: WireResult }>;
  close(): Promise<void>;
}

export interface FunctionStackOptions {
  /** Function app settings on top of the test kit's (Azurite, sandbox endpoints, site secrets). */
  settings?: Record<string, string>;
  sandbox?: Partial<Omit<SandboxOptions, 'cert' | 'key'>>;
  overrides?: ServiceOverrides;
  /** Put a GraphGate between the function and the sandbox's Graph routes (tokens still go direct). */
  gate?: boolean;
  /** Function log lines (JSON per line); default: dropped, so test output stays readable. */
  onLog?: (line: string) => void;
}

export async function startFunctionStack(
  name: string,
  opts: FunctionStackOptions = {},
): Promise<FunctionStack> {
  const kit = await startKit(name, {
    ...(opts.settings ? { settings: opts.settings } : {}),
    ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
    ...(opts.overrides ? { overrides: opts.overrides } : {}),
  });
  const onLog = opts.onLog ?? (() => undefined);
  let host: LocalFunctionHost;
  let gate: GraphGate | undefined;
  let config = kit.config;
  let services = kit.services;
  try {
    if (opts.gate) {
      gate = await startGraphGate(kit.graph.url);
      config = { ...kit.config, graphEndpoint: gate.url };
      services = createFunctionServices(config, {
        ...opts.overrides,
        tuning: { ...FAST_TUNING, ...opts.overrides?.tuning },
      });
    }
    host = await startLocalFunctionHost(config, {
      functionKey: E2E_FUNCTION_KEY,
      services,
      // Short polling so queued messages (202) reach the fake Graph within a test's patience.
      queue: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 2000 },
      logHandler: (_level, ...args) => onLog(args.map(String).join(' ')),
    });
  } catch (e) {
    await gate?.close();
    await kit.close();
    throw e;
  }
  const post = async (envelope: Envelope, mime: Buffer) => {
    const body = frame(envelope, mime);
    const res = await fetch(`${host.url}${WIRE_PATH}`, {
      method: 'POST',
      headers: { ...signedPostHeaders(body, envelope.messageId), 'x-functions-key': E2E_FUNCTION_KEY },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as WireResult };
  };
  return {
    graph: kit.graph,
    ...(gate ? { gate } : {}),
    host,
    config,
    url: host.url,
    siteId: SITE,
    siteSecret: SITE_SECRET,
    functionKey: E2E_FUNCTION_KEY,
    post,
    close: async () => {
      await host.close();
      await gate?.close();
      await kit.close();
    },
  };
}

/** Every address a kept message was delivered to (Graph delivers to To, Cc and Bcc alike), lower-cased. */
export function deliveredTo(message: SandboxMessage): string[] {
  return [...message.to, ...message.cc, ...message.bcc].map((a) => a.toLowerCase());
}

/** The kept messages delivered to `address` (a test's unique envelope recipient tags one message). */
export function messagesFor(graph: GraphSandbox, address: string): SandboxMessage[] {
  const wanted = address.toLowerCase();
  return graph.messages().filter((m) => deliveredTo(m).includes(wanted));
}

/** Runs `work` over `items` with at most `limit` in flight, keeping results in input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
