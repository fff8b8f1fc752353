import type { CheckStatus } from './check-result';
import type { DoctorReport } from './run-doctor';

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '–', warn: '!' };

/**
 * The report for a terminal: one line per check with ✓, ✗, ! (works, but see the warning) or – (skipped),
 * the finding indented below it and the fix after "Fix:". Plain text without colours, so it reads the same
 * in a log or a support ticket.
 */
export function renderReport(report: DoctorReport): string {
  const head = `smtp-graph-bridge doctor${report.site ? ` — site ${report.site}` : ''}${report.functionUrl ? `, function ${report.functionUrl}` : ''}\n${report.configSource ? `Settings from ${report.configSource}\n` : ''}\n`;
  const body = report.checks
    .map((c) => {
      const lines = [`${MARK[c.status]} ${c.title}`, ...indent(c.summary, '    ')];
      if (c.fix && (c.status === 'fail' || c.status === 'warn'))
        lines.push(...indent(`Fix: ${c.fix}`, '    '));
      return lines.join('\n');
    })
    .join('\n');
  const { pass, fail, skip, warn } = report.counts;
  const extras = [
    ...(warn ? [`${warn} warning${warn === 1 ? '' : 's'}`] : []),
    ...(skip ? [`${skip} skipped`] : []),
  ];
  const verdict = report.healthy
    ? `\nAll ${pass + warn} checks passed${extras.length ? ` (${extras.join(', ')})` : ''}.\n`
    : `\n${fail} problem${fail === 1 ? '' : 's'} found (${pass} passed, ${warn ? `${warn} with a warning, ` : ''}${skip} skipped). Fix the first ✗ first: later checks often fail because of it.\n`;
  return `${head}${body}\n${verdict}`;
}

function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((l) => prefix + l);
}
