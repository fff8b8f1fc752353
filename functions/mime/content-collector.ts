/**
 * Collects a stream of decoded attachment chunks into one Buffer without ever holding the content twice.
 *
 * The usual way, a list of chunks and one Buffer.concat at the end, needs the chunks and the result at the
 * same moment: 2× the attachment (a 22 MB scan → 44 MB) just before the copies are dropped. Here small
 * content is still collected that way (up to IN_PLACE_FROM_BYTES, where doubling costs nothing worth
 * avoiding), and larger content is moved into one resizable ArrayBuffer (ES2024; Node ≥ 20) that grows in
 * place: its address space is reserved up to `maxBytes` and pages are committed only as they are written,
 * so memory follows the bytes actually collected, and the final Buffer is a view of it, not a copy.
 *
 * `maxBytes` is the size of the whole message: decoded content is never longer than its encoded form
 * (base64 shrinks it, quoted-printable and binary keep or shrink it), so content of one message fits. Should
 * it not, the collector moves to a larger reservation rather than fail.
 */
export const IN_PLACE_FROM_BYTES = 1024 * 1024;
/** Pages are committed in steps this large (one resize call per step, not per chunk). */
const GROW_STEP_BYTES = 1024 * 1024;

/** The ES2024 resizable ArrayBuffer, typed here because the project's lib is ES2023. */
interface ResizableArrayBuffer extends ArrayBuffer {
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
const ResizableArrayBufferOf = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableArrayBuffer;

export class ContentCollector {
  readonly #maxBytes: number;
  #chunks: Buffer[] = [];
  #store: ResizableArrayBuffer | undefined;
  #length = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = Math.max(maxBytes, IN_PLACE_FROM_BYTES);
  }

  get length(): number {
    return this.#length;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.#store === undefined && this.#length + chunk.length <= IN_PLACE_FROM_BYTES) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
      return;
    }
    if (this.#store === undefined) {
      // Crossing the threshold: the (at most 1 MiB of) chunks so far move into the growing buffer.
      this.#store = new ResizableArrayBufferOf(0, {
        maxByteLength: Math.max(this.#maxBytes, this.#length + chunk.length),
      });
      const collected = this.#chunks;
      this.#chunks = [];
      this.#length = 0;
      for (const c of collected) this.#write(c);
    }
    this.#write(chunk);
  }

  /** The content as one Buffer (a view of the collector's memory); the collector is empty afterwards. */
  finish(): Buffer {
    const store = this.#store;
    const length = this.#length;
    const chunks = this.#chunks;
    this.#store = undefined;
    this.#chunks = [];
    this.#length = 0;
    if (store === undefined) return Buffer.concat(chunks, length);
    store.resize(length); // gives back the pages of the last step that were not needed
    return Buffer.from(store, 0, length);
  }

  #write(chunk: Buffer): void {
    let store = this.#store as ResizableArrayBuffer;
    const needed = this.#length + chunk.length;
    if (needed > store.maxByteLength) {
      const larger = new ResizableArrayBufferOf(needed, { maxByteLength: needed * 2 });
      new Uint8Array(larger).set(new Uint8Array(store, 0, this.#length));
      store = this.#store = larger;
    }
    if (needed > store.byteLength) {
      store.resize(Math.min(store.maxByteLength, Math.ceil(needed / GROW_STEP_BYTES) * GROW_STEP_BYTES));
    }
    new Uint8Array(store, this.#length, chunk.length).set(chunk);
    this.#length = needed;
  }
}
