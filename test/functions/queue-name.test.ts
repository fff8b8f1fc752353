import { describe, expect, it } from 'vitest';

import { loadFunctionConfig } from '../../functions/config';
import { DEFAULT_QUEUE_NAME, registeredQueueName } from '../../functions/queue-name';

const BASE = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };

describe('the queue name the entry registers (without the settings schema)', () => {
  it('is the setting when valid, the default when unset', () => {
    expect(registeredQueueName({ BRIDGE_QUEUE_NAME: 'custom-queue' })).toBe('custom-queue');
    expect(registeredQueueName({})).toBe(DEFAULT_QUEUE_NAME);
  });

  it('agrees with the full settings check on which names are valid, and falls back to the default otherwise', () => {
    for (const name of ['custom-queue', 'abc', 'a--b', 'Upper', 'ab', '', 'x'.repeat(64), '-lead', 'q1-2']) {
      let configured: string | undefined;
      try {
        configured = loadFunctionConfig({ ...BASE, BRIDGE_QUEUE_NAME: name }).queueName;
      } catch {
        configured = undefined;
      }
      expect(registeredQueueName({ BRIDGE_QUEUE_NAME: name })).toBe(configured ?? DEFAULT_QUEUE_NAME);
    }
  });
});
