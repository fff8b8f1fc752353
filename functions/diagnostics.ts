import { app } from '@azure/functions';

import { defaultServices } from './function-services';
import { httpFunction } from './http/http-functions';

/** GET /api/v1/diagnostics (function key + site signature): what `doctor` asks the cloud side. */
const def = httpFunction('diagnostics');
export const diagnostics = def.make(defaultServices);

app.http(def.name, {
  route: def.route,
  methods: def.methods,
  authLevel: def.authLevel,
  handler: diagnostics,
});
