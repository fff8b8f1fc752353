import { smtpSource } from '../edge/processes';

/**
 * Postfix's smtp-source as S devices of their own: S lanes run side by side, each one session (`-s 1`, a new
 * connection per message) and, every `perSender` messages, a new smtp-source with the next sender address.
 * S lanes are S parallel sessions like `smtp-source -s S`, but the messages come from many sender mailboxes,
 * so Exchange's 30 a minute per mailbox (the function's pacer) lets a run of a thousand messages settle in
 * seconds instead of half an hour (one sender: 1000 / 30 a minute).
 */

export interface LaneChunk {
  from: string;
  messages: number;
}

/**
 * Splits `total` messages over `lanes` lanes (the first ones get the remainder), each lane's share cut into
 * chunks of at most `perSender`, each chunk with its own sender `<prefix>-<lane>-<chunk>@example.com`.
 */
export function planLanes(total: number, lanes: number, perSender: number, prefix: string): LaneChunk[][] {
  if (!(lanes >= 1 && perSender >= 1)) throw new RangeError('lanes and perSender must be ≥ 1');
  return Array.from({ length: lanes }, (_, lane) => {
    let left = Math.floor(total / lanes) + (lane < total % lanes ? 1 : 0);
    const chunks: LaneChunk[] = [];
    while (left > 0) {
      const messages = Math.min(perSender, left);
      chunks.push({ from: `${prefix}-${lane + 1}-${chunks.length + 1}@example.com`, messages });
      left -= messages;
    }
    return chunks;
  });
}

export interface LanesRun {
  messages: number;
  seconds: number;
  /** smtp-source's complaints (first lines), empty when every message got its 250. */
  errors: string[];
}

export async function runLanes(port: number, plan: LaneChunk[][], sizeBytes: number): Promise<LanesRun> {
  const started = process.hrtime.bigint();
  const errors: string[] = [];
  await Promise.all(
    plan.map(async (chunks) => {
      for (const c of chunks) {
        const run = await smtpSource(port, 1, c.messages, sizeBytes, c.from);
        if (run.errors) errors.push(`${c.from}: ${run.errors.split('\n')[0]}`);
      }
    }),
  );
  return {
    messages: plan.flat().reduce((n, c) => n + c.messages, 0),
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    errors,
  };
}

/** The original shape: one smtp-source, `sessions` sessions, every message from one sender. */
export async function runOneSender(
  port: number,
  sessions: number,
  messages: number,
  sizeBytes: number,
  from: string,
): Promise<LanesRun> {
  const run = await smtpSource(port, sessions, messages, sizeBytes, from);
  return { messages, seconds: run.seconds, errors: run.errors ? [run.errors.split('\n')[0] as string] : [] };
}
