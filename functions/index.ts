import { app, type HttpHandler } from '@azure/functions';

import { SEND_QUEUED_FUNCTION } from './delivery/send-queued-name';
import { lazyHandler } from './lazy-handler';
import { HTTP_FUNCTIONS } from './http/http-functions';
import { registeredQueueName } from './queue-name';
import type { ServicesGetter } from './services';

/**
 * Entry of the function app (package.json "main" → dist/functions/index.js; the deployed package is one
 * esbuild bundle of this file, scripts/deploy/build-function-bundle.ts) and the one place that registers
 * functions with the host: every HTTP function from its table (http/http-functions.ts, which the local host in
 * dev/function-host serves as well) and the queue trigger of the delivery path.
 *
 * Streaming must be enabled before the host finishes starting, so that request.body is a stream and large
 * messages are never buffered whole (docs/design/platform-facts.md §C8). Registration order does not matter to it.
 *
 * Module load is cold-start time (docs/design/cold-start.md): this file imports only what registration needs.
 * The handlers, the composition root (function-services.ts: storage clients, credentials, mailer) and the
 * delivery code are imported at the first invocation that needs them — keep new imports here lazy too.
 */
app.setup({ enableHttpStream: true });

let servicesModule: typeof import('./function-services.js') | undefined;
const loadServices = async (): Promise<void> => {
  servicesModule ??= await import('./function-services.js');
};
/** Handlers call the getter inside an invocation, after `withServices` has imported the composition root. */
const getServices: ServicesGetter = () => {
  if (!servicesModule) throw new Error('function services used before they were loaded');
  return servicesModule.defaultServices();
};
function withServices<F extends (...args: never[]) => unknown>(
  handler: F,
): (...args: Parameters<F>) => Promise<Awaited<ReturnType<F>>> {
  return (...args) => loadServices().then(() => handler(...args) as Awaited<ReturnType<F>>);
}

for (const def of HTTP_FUNCTIONS) {
  const handler: HttpHandler = def.withoutServices
    ? def.make(getServices)
    : withServices(def.make(getServices));
  app.http(def.name, {
    route: def.route,
    methods: def.methods,
    authLevel: def.authLevel,
    handler,
  });
}

app.storageQueue(SEND_QUEUED_FUNCTION, {
  // Read here because registration needs it; config.ts validates the same setting (queue-name.ts).
  queueName: registeredQueueName(process.env),
  connection: 'AzureWebJobsStorage',
  handler: withServices(
    lazyHandler(async () =>
      (await import('./delivery/queued-delivery.js')).makeSendQueuedHandler(getServices),
    ),
  ),
});
