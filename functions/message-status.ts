import { app } from '@azure/functions';

import { defaultServices } from './function-services';
import { httpFunction } from './http/http-functions';

/** GET /api/v1/messages/{id}: the recorded state of a message, for the site that sent it. */
const def = httpFunction('messageStatus');
export const messageStatus = def.make(defaultServices);

app.http(def.name, {
  route: def.route,
  methods: def.methods,
  authLevel: def.authLevel,
  handler: messageStatus,
});
