import { execFile } from 'node:child_process';

import { toolPath } from './tool-probe';

/**
 * swaks, the SMTP client admins test with, against a listener on loopback. Tests that use it sit in a
 * `describeWithTool('swaks', …)` block (test/helpers/tool-groups.ts), so a machine without swaks skips them
 * with the closing line and CI (BRIDGE_TEST_ALL=1) fails instead.
 */
export interface SwaksRun {
  /** swaks' exit code: 0 when the server took the message, non-zero when it refused or the session failed. */
  code: number;
  /** Everything swaks printed: "->" lines it sent, "<-" / "<**" lines the server answered. */
  transcript: string;
}

/** Runs swaks with `args` against 127.0.0.1:port; resolves with the transcript even when the server refused. */
export function swaks(port: number, args: string[]): Promise<SwaksRun> {
  const argv = ['--server', `127.0.0.1:${port}`, '--helo', 'copier.test', '--timeout', '30', ...args];
  return new Promise((resolve, reject) => {
    execFile(toolPath('swaks'), argv, { timeout: 60_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, transcript: stdout });
      if (typeof error.code === 'number') return resolve({ code: error.code, transcript: stdout + stderr });
      reject(error);
    });
  });
}

/** The server's reply lines in a swaks transcript ("<-  250 …", "<** 550 …"), without the arrows. */
export function serverReplies(transcript: string): string[] {
  return transcript
    .split('\n')
    .filter((l) => /^<[-~*]{1,2}\s/.test(l))
    .map((l) => l.replace(/^<[-~*]{1,2}\s+/, ''));
}

/** The spool id of the listener's 250 reply in a swaks transcript ("250 2.0.0 Ok: sent as <id>"). */
export function spoolIdFromTranscript(transcript: string): string {
  const reply = serverReplies(transcript).find((r) => /^250 \S+ .* as \S+\s*$/.test(r));
  const m = reply ? / as (\S+)\s*$/.exec(reply) : null;
  if (!m?.[1]) throw new Error(`no 250 with a spool id in:\n${transcript}`);
  return m[1];
}
