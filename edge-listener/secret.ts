import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A configuration secret (site secret, function key, password hashes). The value is only reachable through
 * `reveal()`; printing, logging or JSON-serialising the config shows `[redacted]`, so a config dump or a
 * `config check` can never leak it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
