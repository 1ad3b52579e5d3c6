import { defineModule, type FirebreakModule } from '../app/context.ts';
import { consoleStaticRoutes } from './static.ts';
import { lifecycleRoutes } from './lifecycle.ts';
import { streamRoutes } from './stream.ts';

export { CONSOLE_DIST_DIR, consoleStaticRoutes } from './static.ts';
export { HEARTBEAT_MS } from './stream.ts';
export { formatSseEvent, redactSecrets } from './stream-events.ts';

/**
 * The web console: the live event stream, the lifecycle table as data, and the built single-page app
 * at `/` (its catch-all route only answers paths no other module registered, so it can sit anywhere).
 */
export function createConsoleModule(options: { heartbeatMs?: number; distDir?: string } = {}): FirebreakModule {
  return defineModule({
    name: 'console',
    routes(app, ctx) {
      streamRoutes(app, ctx, options.heartbeatMs);
      lifecycleRoutes(app);
      consoleStaticRoutes(app, options.distDir);
    },
  });
}

export const consoleModule: FirebreakModule = createConsoleModule();
