import { describe, expect, it } from 'vitest';

import { BridgeError } from '../../../core/errors';
import { planDelivery } from '../../../functions/mime/plan';
import { envelope, eml } from './plan-helpers';

/**
 * The function's own check of a device binding (issue 10). The site policy here is `*@contoso.com`: on its own
 * it lets any device of the site send as the CEO. The binding the site's edge signed into the envelope limits
 * this device to scanner@contoso.com — even if the edge's check was missed (an older edge build, or a From
 * header the two parsers read differently), the function refuses with DEVICE_SENDER_NOT_BOUND.
 */
const POLICY = { allowedSenders: ['*@contoso.com'] };
const bound = (mailFrom = 'scanner@contoso.com') => ({
  ...envelope(['partner@fabrikam.example'], mailFrom),
  senderBinding: ['scanner@contoso.com'],
});
const message = (from: string) =>
  eml(`From: ${from}`, 'To: partner@fabrikam.example', 'Subject: Invoice', '', 'Pay.', '');

async function refusal(p: Promise<unknown>): Promise<BridgeError | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof BridgeError ? e : undefined),
  );
}

describe('device binding, checked again by the function', () => {
  it('without a binding, the site policy alone lets any device send as the CEO (the gap bindings close)', async () => {
    const plan = await planDelivery(
      message('ceo@contoso.com'),
      envelope(['partner@fabrikam.example'], 'scanner@contoso.com'),
      POLICY,
    );
    expect(plan.mailbox).toBe('ceo@contoso.com');
  });

  it('refuses a From outside the binding although the site policy allows it', async () => {
    const err = await refusal(planDelivery(message('The CEO <ceo@contoso.com>'), bound(), POLICY));
    expect(err?.code).toBe('DEVICE_SENDER_NOT_BOUND');
    expect(err?.detail).toMatch(/bound to scanner@contoso\.com, not ceo@contoso\.com/);
  });

  it('refuses MAIL FROM outside the binding when the message has no From', async () => {
    const err = await refusal(planDelivery(eml('Subject: x', '', 'x', ''), bound('ceo@contoso.com'), POLICY));
    expect(err?.code).toBe('DEVICE_SENDER_NOT_BOUND');
  });

  it('sends a From inside the binding as itself', async () => {
    const plan = await planDelivery(message('Scanner <SCANNER@contoso.com>'), bound(), POLICY);
    expect(plan.mailbox.toLowerCase()).toBe('scanner@contoso.com');
  });

  it('still needs the site policy: a binding never widens it', async () => {
    const err = await refusal(
      planDelivery(message('scanner@contoso.com'), bound(), { allowedSenders: ['*@fabrikam.example'] }),
    );
    expect(err?.code).toBe('SENDER_NOT_ALLOWED');
  });
});
