import { describe, expect, it } from 'vitest';

import { BridgeError, type BridgeErrorCode, serializeBridgeError } from '../../../core/errors';
import { adminConsentUrl, explainFailure } from '../../../edge-listener/doctor/explain-failure';

const app = {
  clientId: '11111111-2222-3333-4444-555555555555',
  tenantId: 'contoso.onmicrosoft.com',
  authorityHost: 'https://login.microsoftonline.com/',
  credential: 'workload-identity',
};
const error = (code: BridgeErrorCode, detail?: string, graph?: { status: number; code?: string }) =>
  serializeBridgeError(new BridgeError(code, { ...(detail ? { detail } : {}), ...(graph ? { graph } : {}) }));

describe('explainFailure', () => {
  it('builds the admin-consent URL of the mailbox tenant', () => {
    expect(adminConsentUrl(app)).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=11111111-2222-3333-4444-555555555555',
    );
    expect(adminConsentUrl({ ...app, tenantId: undefined } as never)).toBeUndefined();
  });

  it.each([
    ['AADSTS7000215', /rejected the client secret/, /secret VALUE/],
    ['AADSTS7000222', /client secret of the app has expired/, /new client secret/],
    ['AADSTS700016', /not known in tenant contoso\.onmicrosoft\.com/, /adminconsent\?client_id=/],
    ['AADSTS700213', /no federated credential/, /api:\/\/AzureADTokenExchange/],
    ['AADSTS700027', /certificate/, /Certificates & secrets/],
  ])('explains token failure %s in plain words', (aadsts, summary, fix) => {
    const x = explainFailure(error('GRAPH_TOKEN_FAILED', `AuthenticationError invalid_client ${aadsts}`), {
      app,
    });
    expect(x.summary).toMatch(summary);
    expect(x.fix).toMatch(fix);
  });

  it('tells a scope denial ("Access to OData is disabled") from missing consent ("Access is denied")', () => {
    const scope = explainFailure(
      error('GRAPH_ACCESS_DENIED', 'outside the scope (ErrorAccessDenied: Access to OData is disabled.)', {
        status: 403,
        code: 'ErrorAccessDenied',
      }),
      { mailbox: 'a@contoso.com', app },
    );
    expect(scope.summary).toMatch(/outside the app's Exchange RBAC for Applications scope/);
    const consent = explainFailure(
      error('GRAPH_ACCESS_DENIED', 'Access is denied. Check credentials and try again.', {
        status: 403,
        code: 'ErrorAccessDenied',
      }),
      { mailbox: 'a@contoso.com', app, permission: 'Mail.ReadWrite' },
    );
    expect(consent.summary).toMatch(/Mail\.ReadWrite \(Application\) is neither admin-consented/);
    expect(consent.fix).toContain(adminConsentUrl(app));
  });

  it('falls back to the error table hint for codes it has no sentence for', () => {
    const x = explainFailure(error('SPOOL_FULL'));
    expect(x.summary).toBe('Spool is full (SPOOL_FULL).');
    expect(x.fix).toMatch(/Free disk space under BRIDGE_DATA_DIR/);
  });
});
