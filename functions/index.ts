import { app } from '@azure/functions';

// Each imported file registers its functions with the host.
import './send-message';
import './message-status';
import './health';
import './diagnostics';
import './send-queued';
import './tenant-admin';

/**
 * Entry of the function app (package.json "main" → dist/functions/index.js). Streaming must be enabled
 * before the host finishes starting, so that request.body is a stream and large messages are never
 * buffered whole (platform-facts §C8). Registration order does not matter to it.
 */
app.setup({ enableHttpStream: true });
