/** What `doctor` was asked to do (from the command line; defaults in doctor-command.ts). */
export interface DoctorOptions {
  /** Budget of each network step (connect, TLS handshake, one HTTP request). */
  timeoutMs: number;
  /** A certificate expiring within this many days fails the check. */
  certMinDays: number;
  /** Also send a real test message to this address through the listener. */
  sendTo?: string;
  /** Sender of the test message and an extra mailbox to check; default: the site's default sender. */
  from?: string;
  /** SMTP AUTH for the test message, when the listener requires it. */
  auth?: { user: string; password: string };
  /** How long to follow the test message until Graph accepted it. */
  testTimeoutMs: number;
  /** Clock (tests). */
  now?: () => Date;
}
