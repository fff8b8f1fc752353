import { app } from '@azure/functions';

import { defaultServices } from './function-services';
import { httpFunction } from './http/http-functions';

/** POST /api/v1/messages: the edge listener delivers one message (core/wire.ts). */
const def = httpFunction('sendMessage');
export const sendMessage = def.make(defaultServices);

app.http(def.name, {
  route: def.route,
  methods: def.methods,
  authLevel: def.authLevel,
  handler: sendMessage,
});
