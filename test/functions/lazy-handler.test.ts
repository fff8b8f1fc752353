import { describe, expect, it } from 'vitest';

import { lazyHandler } from '../../functions/lazy-handler';

describe('lazyHandler (handlers imported at their first invocation)', () => {
  it('loads nothing until invoked, then loads once for every later and concurrent call', async () => {
    let loads = 0;
    const handler = lazyHandler(async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return async (a: number, b: number) => a + b;
    });
    expect(loads).toBe(0);
    expect(await Promise.all([handler(1, 2), handler(3, 4)])).toEqual([3, 7]);
    expect(await handler(5, 6)).toBe(11);
    expect(loads).toBe(1);
  });

  it('passes a synchronous handler result through as a promise', async () => {
    const handler = lazyHandler(async () => (x: string) => x.toUpperCase());
    await expect(handler('ok')).resolves.toBe('OK');
  });

  it('fails the invocation when the import fails, and tries the import again on the next one', async () => {
    let loads = 0;
    const handler = lazyHandler(async () => {
      loads++;
      if (loads === 1) throw new Error('module not found');
      return async () => 'loaded';
    });
    await expect(handler()).rejects.toThrow('module not found');
    await expect(handler()).resolves.toBe('loaded');
    expect(loads).toBe(2);
  });

  it('lets a handler error through without reloading the module', async () => {
    let loads = 0;
    const handler = lazyHandler(async () => {
      loads++;
      return async () => {
        throw new Error('handler failed');
      };
    });
    await expect(handler()).rejects.toThrow('handler failed');
    await expect(handler()).rejects.toThrow('handler failed');
    expect(loads).toBe(1);
  });
});
