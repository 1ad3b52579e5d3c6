import type { FirebreakModule } from '../app/context.ts';
import { SecretService } from './service.ts';
import { secretMigrations } from './schema.ts';
import { secretRoutes } from './routes.ts';

export { SecretService } from './service.ts';
export { secretMigrations } from './schema.ts';
export { SECRET_NAME_PATTERN, SecretInfoSchema, type SecretInfo } from './schemas.ts';
export { secretRoutes } from './routes.ts';

declare module '../app/context.ts' {
  interface ModuleServices {
    /** Named secrets sealed at rest, referenced by plans as `{{secrets.NAME}}`. */
    secrets: SecretService;
  }
}

export const secretsModule: FirebreakModule = {
  name: 'secrets',
  migrations: secretMigrations,
  init(ctx) {
    ctx.services.secrets = new SecretService(ctx.database, ctx.config.secretKey, ctx.clock);
  },
  routes(app, ctx) {
    secretRoutes(app, ctx);
  },
};
