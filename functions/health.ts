import { app } from '@azure/functions';

import { defaultServices } from './function-services';
import { httpFunction } from './http/http-functions';

/**
 * GET /api/health (anonymous liveness) and GET /api/health/deep (function key: Graph token, roles, storage).
 * Two functions because the host enforces the function key per function, not per query string.
 */
const live = httpFunction('health');
const deep = httpFunction('healthDeep');
export const health = live.make(defaultServices);
export const healthDeep = deep.make(defaultServices);

app.http(live.name, { route: live.route, methods: live.methods, authLevel: live.authLevel, handler: health });
app.http(deep.name, {
  route: deep.route,
  methods: deep.methods,
  authLevel: deep.authLevel,
  handler: healthDeep,
});
