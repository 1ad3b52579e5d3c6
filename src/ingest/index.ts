export { ingestModule } from './module.ts';
export { AlertService, originOf, type IngestOutcome, type IngestOrigin } from './alerts.ts';
export { IntegrationService } from './integrations.ts';
export { RoutingRulesService, ROUTING_RULES_FILE } from './rules-service.ts';
export { CorrelationService, type SharedChangeEvidence, type SharedChangeSource } from './correlation-service.ts';
export { ingestMigrations, type IngestTables } from './schema.ts';
export { registerIngestCommands } from './cli.ts';
export * from './schemas.ts';
