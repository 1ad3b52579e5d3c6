export { CatalogService } from './service.ts';
export { chooseOwningTeam, type TeamAssignment } from './ownership.ts';
export { catalogMigrations, type CatalogTables } from './store.ts';
export * from './schemas.ts';
export { catalogRoutes } from './routes.ts';
