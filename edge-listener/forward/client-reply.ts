/**
 * Who tells the SMTP client how a fresh message ended, decided exactly once:
 *
 *   - the SMTP session `release()`s when its wait budget is spent: the client gets 250 now, and a later
 *     rejection must keep the message in the spool as failed (the client was told it was accepted);
 *   - the forwarder `claim()`s when the function rejected the message while the client still waits: the
 *     client gets the 5xx, so the spool keeps only a done record (the device owns the failure now, and a
 *     kept copy could later be retried into a duplicate of whatever the user sends instead).
 *
 * Both run on the one event loop, so the first call wins and the other learns it lost.
 */
export class ClientReply {
  #state: 'waiting' | 'released' | 'claimed' = 'waiting';

  claim(): boolean {
    if (this.#state !== 'waiting') return false;
    this.#state = 'claimed';
    return true;
  }

  release(): boolean {
    if (this.#state !== 'waiting') return false;
    this.#state = 'released';
    return true;
  }
}
