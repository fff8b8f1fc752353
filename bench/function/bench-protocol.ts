import type { SendReport } from '../../functions/delivery/delivery-plan';
import type { MemoryPeak } from './memory-sampler';

/**
 * What the bench parent (run.ts) and a measuring child (measure-child.ts) say to each other over the IPC
 * channel. Settings travel here rather than in the child's environment, so the bench reads no environment;
 * only NODE_EXTRA_CA_CERTS is set at spawn, because Node reads it once when the process starts.
 */
export interface ChildJob {
  /** 'memory': one message with the samplers on; 'cpu': several messages, no samplers (their CPU would count). */
  mode: 'memory' | 'cpu';
  /** App settings for loadFunctionConfig (Azurite, Graph sandbox, site secret, unique storage names). */
  settings: Record<string, string>;
  siteId: string;
  siteSecret: string;
  /** Raw MIME to post, on disk: the child streams it, so the message is never in its heap before the request. */
  messagePath: string;
  /**
   * intake: post the message(s) through the HTTP handler and stop (a queued pointer stays on the queue);
   * trigger: take one pointer off the queue and run the queue trigger on it; both: one after the other.
   * Memory runs measure intake and trigger in separate fresh processes (as separate invocations, maybe on
   * separate instances, run in Azure), so neither starts from memory the other left behind.
   */
  stage: 'intake' | 'trigger' | 'both';
  /** A small message for the warm-up (small, so the warm-up leaves no large freed blocks behind). */
  warmupPath: string;
  /** Messages sent one after the other (after the warm-up). */
  repetitions: number;
}

export interface InvocationResult {
  fn: 'sendMessage' | 'sendQueued';
  status?: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  wallMs: number;
  memory?: MemoryPeak;
}

export interface MessageResult {
  messageId: string;
  /** Final state as recorded in Table Storage. */
  state: string | undefined;
  invocations: InvocationResult[];
  /** What the mailer reported to the handler for this message. */
  reports: SendReport[];
}

export type ParentMessage = { kind: 'job'; job: ChildJob } | { kind: 'go' };

export type ChildMessage =
  | { kind: 'warm' }
  | { kind: 'done'; messages: MessageResult[]; rssSource?: MemoryPeak['rssSource'] }
  | { kind: 'failed'; error: string };
