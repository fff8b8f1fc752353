import type { SpoolEntry } from '../spool/entry';

/** Plain-text tables for a terminal: columns padded to their widest cell, no colours (logs and pipes). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** "2024-05-01 10:00:00Z" — seconds are enough on a terminal; --json keeps full ISO times. */
export function timeText(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : '';
}

export function entryRows(entries: SpoolEntry[]): string {
  const rows = entries.map((e) => [
    e.id,
    e.state === 'done' ? `done/${e.outcome ?? '?'}` : e.state,
    String(e.attempts),
    sizeText(e.mimeBytes),
    timeText(e.envelope.receivedAt),
    e.state === 'failed'
      ? `failed ${timeText(e.failedAt)}`
      : e.state === 'done'
        ? timeText(e.completedAt)
        : timeText(e.nextAttemptAt),
    e.envelope.mailFrom || '<>',
    String(e.envelope.rcptTo.length),
    e.lastError?.code ?? e.result?.error?.code ?? '',
  ]);
  return table(
    ['ID', 'STATE', 'TRIES', 'SIZE', 'RECEIVED', 'NEXT/FINISHED', 'FROM', 'RCPTS', 'LAST ERROR'],
    rows,
  );
}

export function entryDetails(e: SpoolEntry, messagePath?: string): string {
  const lines: Array<[string, string | undefined]> = [
    ['id', e.id],
    // Shown only when an admin resubmission gave the message a new idempotency key at the function.
    ['submission id', e.submissionId !== e.id ? e.submissionId : undefined],
    ['state', e.state === 'done' ? `done (${e.outcome ?? '?'})` : e.state],
    ['received', e.envelope.receivedAt],
    ['size', `${sizeText(e.mimeBytes)} (${e.mimeBytes} bytes)`],
    ['attempts', String(e.attempts)],
    ['next attempt', e.nextAttemptAt],
    ['last attempt', e.lastAttemptAt],
    ['failed at', e.failedAt],
    ['completed', e.completedAt],
    ['client', `${e.envelope.clientAddress} (HELO ${e.envelope.helo || '-'})`],
    ['auth user', e.envelope.authUser],
    ['mail from', e.envelope.mailFrom || '<>'],
    ['rcpt to', e.envelope.rcptTo.join(', ')],
    ['sender mailbox', e.result?.sender],
    ['graph request id', e.result?.graphRequestId],
    ['message file', messagePath],
  ];
  const err = e.lastError ?? e.result?.error;
  if (err) {
    lines.push(['last error', `${err.code} (${err.smtp.reply} ${err.smtp.enhanced}) ${err.message}`]);
    lines.push(['hint', err.hint]);
    if (err.graph)
      lines.push([
        'graph',
        `HTTP ${err.graph.status} ${err.graph.code ?? ''} request-id ${err.graph.requestId ?? '-'}`.trim(),
      ]);
  }
  const shown = lines.filter((l): l is [string, string] => l[1] !== undefined && l[1] !== '');
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n') + '\n';
}
