import { readFile } from 'node:fs/promises';

import { loadFunctionConfig } from '../../functions/config';
import type { SendReport } from '../../functions/delivery/delivery-plan';
import { createFunctionServices } from '../../functions/function-services';
import { makeSendMessageHandler } from '../../functions/http/post-message-handler';
import { makeSendQueuedHandler } from '../../functions/delivery/queued-delivery';
import type { FunctionServices } from '../../functions/services';
import { parseQueuePointer, type OutboundQueue } from '../../functions/state/outbound-queue';
import { createStorageClients } from '../../functions/state/storage-clients';
import type {
  ChildJob,
  ChildMessage,
  InvocationResult,
  MessageResult,
  ParentMessage,
} from './bench-protocol';
import { benchEnvelope, newMessageId, preparePost, quietContext } from './host-calls';
import { MemorySampler } from './memory-sampler';

/**
 * One measuring process, spawned by run.ts with --expose-gc: builds the function's services from the job's
 * settings, warms every path up with a small message (token, TLS sessions, tables, JIT), then runs its stage
 * — the real HTTP handler on the posted message, the real queue trigger on a pointer, or both — measuring
 * each invocation on its own (CPU around the handler; memory from an idle baseline).
 */

function send(message: ChildMessage): void {
  process.send?.(message);
}

function nextParentMessage(): Promise<ParentMessage> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as ParentMessage)));
}

/**
 * The real services, wrapped (not replaced) so the bench sees what the handler sees: the SendReport of each
 * send is kept, and in memory runs the steps worth telling apart (plan, blob store/load, Graph send) mark
 * their phase in the sampler, so the report can say where the memory goes.
 */
function servicesFor(
  job: ChildJob,
  reports: SendReport[],
  marks: { sampler?: MemorySampler },
): FunctionServices {
  const services = createFunctionServices(loadFunctionConfig(job.settings));
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    marks.sampler?.phase(name);
    try {
      return await work();
    } finally {
      marks.sampler?.phase(`after ${name}`);
    }
  };
  const { mailerFor, outbound, plan, check } = services;
  const wrappedOutbound = {
    store: (...a: Parameters<OutboundQueue['store']>) => step('blob store', () => outbound.store(...a)),
    load: (...a: Parameters<OutboundQueue['load']>) => step('blob load', () => outbound.load(...a)),
    open: (...a: Parameters<OutboundQueue['open']>) => step('blob open', () => outbound.open(...a)),
    enqueue: (...a: Parameters<OutboundQueue['enqueue']>) => outbound.enqueue(...a),
    delete: (...a: Parameters<OutboundQueue['delete']>) => outbound.delete(...a),
    probe: () => outbound.probe(),
  };
  return {
    ...services,
    // OutboundQueue has #private fields, so a delegating object is not assignable to it by type alone.
    outbound: wrappedOutbound as unknown as OutboundQueue,
    plan: (...a) => step('plan', () => plan(...a)),
    check: (...a) => step('plan', () => check(...a)),
    mailerFor: (tenantId, logger) => {
      const mailer = mailerFor(tenantId, logger);
      return {
        ...mailer,
        send: (p) =>
          step('graph send', async () => {
            const report = await mailer.send(p);
            reports.push(report);
            return report;
          }),
      };
    },
  };
}

async function measured(
  fn: InvocationResult['fn'],
  sampler: MemorySampler | undefined,
  work: () => Promise<number | undefined>,
): Promise<InvocationResult> {
  const run = async () => {
    const cpu = process.cpuUsage();
    const startMs = performance.now();
    const status = await work();
    const used = process.cpuUsage(cpu);
    return { status, wallMs: performance.now() - startMs, cpuUserUs: used.user, cpuSystemUs: used.system };
  };
  if (!sampler) {
    const r = await run();
    return { fn, ...(r.status === undefined ? {} : { status: r.status }), ...r };
  }
  const { result, memory } = await sampler.measure(run);
  return { fn, ...(result.status === undefined ? {} : { status: result.status }), ...result, memory };
}

async function main(): Promise<void> {
  const first = await nextParentMessage();
  if (first.kind !== 'job') throw new Error('expected a job');
  const job = first.job;
  const reports: SendReport[] = [];
  const sampler = job.mode === 'memory' ? new MemorySampler() : undefined;
  // Phases are marked only once measuring starts; the warm-up runs on the same services, unmarked.
  const marks: { sampler?: MemorySampler } = {};
  const services = servicesFor(job, reports, marks);
  const sendMessage = makeSendMessageHandler(() => services);
  const sendQueued = makeSendQueuedHandler(() => services);
  const { queue } = createStorageClients(services.config.storage, {
    table: services.config.stateTable,
    container: services.config.blobContainer,
    queue: services.config.queueName,
  });

  async function intake(messagePath: string, sampler?: MemorySampler): Promise<MessageResult> {
    const messageId = newMessageId();
    const request = await preparePost(benchEnvelope(job.siteId, messageId), messagePath, job.siteSecret);
    const before = reports.length;
    const invocation = await measured(
      'sendMessage',
      sampler,
      async () => (await sendMessage(request(), quietContext('sendMessage'))).status,
    );
    return { messageId, state: undefined, invocations: [invocation], reports: reports.slice(before) };
  }

  /** The host's part (not measured): take the next pointer off the queue; then invoke the trigger with it. */
  async function trigger(sampler?: MemorySampler): Promise<MessageResult> {
    const [item] = (await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 120 }))
      .receivedMessageItems;
    if (!item) throw new Error('no message pointer on the queue');
    await queue.deleteMessage(item.messageId, item.popReceipt);
    const pointer = parseQueuePointer(item.messageText);
    const context = quietContext('sendQueued', { dequeueCount: item.dequeueCount });
    const before = reports.length;
    const invocation = await measured('sendQueued', sampler, async () => {
      await sendQueued(pointer, context);
      return undefined;
    });
    return {
      messageId: pointer.messageId,
      state: undefined,
      invocations: [invocation],
      reports: reports.slice(before),
    };
  }

  /**
   * Every path once with a small message: the HTTP handler (direct send), the queue trigger on a stored
   * frame, and a pointer through the queue. Tokens, TLS sessions, tables, containers and the JIT are then
   * warm, and no large block was ever allocated, so the idle baseline holds no freed message memory.
   */
  async function warmUp(): Promise<void> {
    await intake(job.warmupPath);
    const envelope = benchEnvelope(job.siteId, newMessageId());
    const pointer = await services.outbound.store(envelope, await readFile(job.warmupPath));
    await sendQueued(pointer, quietContext('sendQueued', { dequeueCount: 1 }));
    if (job.stage === 'trigger') return; // the measured pointer is already waiting on the queue
    await services.outbound.enqueue({ ...pointer, messageId: newMessageId() });
    const [item] = (await queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    if (item) await queue.deleteMessage(item.messageId, item.popReceipt);
  }

  await warmUp();
  send({ kind: 'warm' });
  if ((await nextParentMessage()).kind !== 'go') throw new Error('expected go');

  await sampler?.start();
  if (sampler) marks.sampler = sampler;
  const messages: MessageResult[] = [];
  for (let i = 0; i < job.repetitions; i++) {
    let result: MessageResult;
    if (job.stage === 'trigger') result = await trigger(sampler);
    else {
      result = await intake(job.messagePath, sampler);
      if (job.stage === 'both' && result.invocations[0]?.status === 202) {
        const queued = await trigger(sampler);
        result = {
          ...result,
          invocations: [...result.invocations, ...queued.invocations],
          reports: [...result.reports, ...queued.reports],
        };
      }
    }
    result.state = (await services.store.get(job.siteId, result.messageId))?.state;
    messages.push(result);
  }
  const rssSource = messages[0]?.invocations[0]?.memory?.rssSource;
  await sampler?.stop();
  send({ kind: 'done', messages, ...(rssSource ? { rssSource } : {}) });
}

main().then(
  () => process.disconnect?.(),
  (err: unknown) => {
    send({ kind: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
