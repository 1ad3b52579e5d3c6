export { CatalogService } from './service.ts';
export { chooseOwningTeam, type TeamAssignment } from './ownership.ts';
export { catalogMigrations, type CatalogTables } from './schema.ts';
export * as catalogRepository from './repository.ts';
export * from './schemas.ts';
export { catalogRoutes } from './routes.ts';
