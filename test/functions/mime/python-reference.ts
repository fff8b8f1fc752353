import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Runs test/fixtures/python-mime-reference.py (CPython's stdlib `email` package): the independent reading of a
 * message that the corpus test compares the plan with. One python3 process per call, for all paths at once.
 */

export interface PyMailbox {
  name: string;
  address: string;
}

/** Subject + sorted SHA-256 of every leaf: equal for two faithful copies of one message. */
export interface PyDigest {
  subject: string | null;
  leaves: string[];
}

export interface PyPart {
  kind: 'leaf' | 'message';
  contentType: string;
  filename: string | null;
  contentId: string | null;
  disposition?: string | null;
  sha256?: string;
  size?: number;
  digest?: PyDigest;
}

export interface PyMessage {
  error?: string;
  subject: string | null;
  from: PyMailbox[];
  to: PyMailbox[];
  cc: PyMailbox[];
  bcc: PyMailbox[];
  replyTo: PyMailbox[];
  contentType: string;
  bodyTypes: string[];
  parts: PyPart[];
  digest: PyDigest;
  defects: string[];
}

export const REPO_ROOT = resolve(__dirname, '../../..');
const SCRIPT = resolve(REPO_ROOT, 'test/fixtures/python-mime-reference.py');

export function pythonReference(paths: readonly string[]): Record<string, PyMessage> {
  if (paths.length === 0) return {};
  const out = execFileSync('python3', [SCRIPT, ...paths], { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' });
  return JSON.parse(out) as Record<string, PyMessage>;
}
