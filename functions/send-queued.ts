import { app } from '@azure/functions';

import { functionConfigFromEnvironment } from './config';
import { defaultServices } from './function-services';
import { makeSendQueuedHandler } from './delivery/queued-delivery';

/**
 * Queue trigger: sends messages that were too large (or too slow) for the HTTP request. The queue name is
 * a setting, read when the app registers its functions; an invalid configuration falls back to the default
 * name so registration still happens and every invocation reports CONFIG_INVALID.
 */
export const sendQueued = makeSendQueuedHandler(defaultServices);

app.storageQueue('sendQueued', {
  queueName: queueName(),
  connection: 'AzureWebJobsStorage',
  handler: sendQueued,
});

function queueName(): string {
  try {
    return functionConfigFromEnvironment().queueName;
  } catch {
    return 'bridge-outbound';
  }
}
