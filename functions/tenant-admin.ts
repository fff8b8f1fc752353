import { app } from '@azure/functions';

import { defaultServices } from './function-services';
import { httpFunction } from './http/http-functions';

/** The admin API (/api/v1/admin/…) and the admin-consent callback (docs/multi-tenant.md). */
for (const name of ['adminCollection', 'adminItem', 'adminAction', 'consentCallback']) {
  const def = httpFunction(name);
  app.http(def.name, {
    route: def.route,
    methods: def.methods,
    authLevel: def.authLevel,
    handler: def.make(defaultServices),
  });
}
