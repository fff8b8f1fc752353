import { app } from '@azure/functions';

import { functionConfigFromEnvironment } from './config';
import { makeSendQueuedHandler, SEND_QUEUED_FUNCTION } from './delivery/queued-delivery';
import { defaultServices } from './function-services';
import { HTTP_FUNCTIONS } from './http/http-functions';

/**
 * Entry of the function app (package.json "main" → dist/functions/index.js) and the one place that registers
 * functions with the host: every HTTP function from its table (http/http-functions.ts, which the local host in
 * dev/function-host serves as well) and the queue trigger of the delivery path.
 *
 * Streaming must be enabled before the host finishes starting, so that request.body is a stream and large
 * messages are never buffered whole (docs/design/platform-facts.md §C8). Registration order does not matter to it.
 */
app.setup({ enableHttpStream: true });

for (const def of HTTP_FUNCTIONS) {
  app.http(def.name, {
    route: def.route,
    methods: def.methods,
    authLevel: def.authLevel,
    handler: def.make(defaultServices),
  });
}

app.storageQueue(SEND_QUEUED_FUNCTION, {
  queueName: registeredQueueName(),
  connection: 'AzureWebJobsStorage',
  handler: makeSendQueuedHandler(defaultServices),
});

/**
 * The queue name is a setting, read when the app registers its functions. An invalid configuration falls
 * back to the default name so that registration still happens and every invocation reports CONFIG_INVALID.
 */
function registeredQueueName(): string {
  try {
    return functionConfigFromEnvironment().queueName;
  } catch {
    return 'bridge-outbound';
  }
}
