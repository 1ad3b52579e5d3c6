import fs from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AppError } from '../shared/errors.ts';
import { checkVersion } from '../shared/concurrency.ts';
import { isUniqueViolation, toJson, type Database } from '../storage/index.ts';
import type { CatalogService } from '../catalog/index.ts';
import { EMPTY_RULE_SET, parseRoutingRulesYaml, routeAlert, type CompiledRuleSet, type RoutingDecision, type RoutingInput } from './routing.ts';
import type { RoutingRuleSet } from './schemas.ts';
import type { IngestTables } from './schema.ts';
import * as repository from './repository.ts';

export const ROUTING_RULES_FILE = 'routing-rules.yaml';
/** Other servers' edits are picked up within this long; this server's own edits immediately. */
const REFRESH_MS = 2000;

interface CurrentRules {
  version: number;
  compiled: CompiledRuleSet;
  checkedMs: number;
}

/**
 * The routing rule set is versioned in the database (every edit is a new version, kept). A
 * `routing-rules.yaml` in the config directory is loaded at start and becomes the current version when
 * it differs from the last version loaded from the file, so an edit made through the API survives a
 * restart until the file itself changes.
 */
export class RoutingRulesService {
  private readonly db: Kysely<IngestTables>;
  private current: CurrentRules = { version: 0, compiled: EMPTY_RULE_SET, checkedMs: 0 };
  private refreshing: Promise<CurrentRules> | null = null;

  constructor(
    database: Database,
    private readonly catalog: CatalogService,
    private readonly clock: () => Date,
    private readonly log: Logger,
  ) {
    this.db = database.db.withTables<IngestTables>();
  }

  async loadFile(configDir: string): Promise<void> {
    const file = path.join(configDir, ROUTING_RULES_FILE);
    if (!fs.existsSync(file)) {
      await this.refresh(true);
      return;
    }
    const yaml = fs.readFileSync(file, 'utf8');
    let compiled: CompiledRuleSet;
    try {
      compiled = parseRoutingRulesYaml(yaml);
      await this.assertServicesExist(compiled);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new AppError('validation_failed', `${file}: ${message}`, { field: file });
    }
    const lastFromFile = await repository.lastRuleSetYamlFromFile(this.db);
    if (lastFromFile !== yaml) {
      try {
        const version = await this.store(yaml, compiled, 'file', 'file', undefined);
        this.log.info({ file, version }, 'routing rules loaded from file');
      } catch (error) {
        // Another server starting at the same moment stored it first.
        if (!(error instanceof AppError && error.code === 'version_conflict')) throw error;
      }
    }
    await this.refresh(true);
  }

  /** The rule set in force, refreshed from the database at most every two seconds. */
  async rules(): Promise<CompiledRuleSet> {
    if (Date.now() - this.current.checkedMs < REFRESH_MS) return this.current.compiled;
    return (await this.refresh(false)).compiled;
  }

  async route(input: RoutingInput, now: Date): Promise<RoutingDecision> {
    return routeAlert(await this.rules(), input, now);
  }

  async get(): Promise<RoutingRuleSet> {
    const row = await repository.latestRuleSet(this.db);
    if (!row) return { version: 0, source: 'builtin', created_at: null, created_by: 'firebreak', yaml: '', document: EMPTY_RULE_SET.document };
    return { version: row.version, source: row.source, created_at: row.created_at, created_by: row.created_by, yaml: row.yaml, document: JSON.parse(row.rules) };
  }

  async history(): Promise<{ version: number; source: string; created_at: string; created_by: string }[]> {
    return repository.ruleSetHistory(this.db, 200);
  }

  async put(yaml: string, expectedVersion: number | undefined, actor: string): Promise<RoutingRuleSet> {
    const compiled = parseRoutingRulesYaml(yaml);
    await this.assertServicesExist(compiled);
    await this.store(yaml, compiled, 'api', actor, expectedVersion);
    await this.refresh(true);
    return this.get();
  }

  private async store(yaml: string, compiled: CompiledRuleSet, source: string, actor: string, expectedVersion: number | undefined): Promise<number> {
    const currentVersion = await repository.latestRuleSetVersion(this.db);
    checkVersion('routing rules', 'set', currentVersion, expectedVersion, false);
    const version = currentVersion + 1;
    try {
      await repository.insertRuleSet(this.db, { version, yaml, rules: toJson(compiled.document), source, created_at: this.clock().toISOString(), created_by: actor });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError('version_conflict', 'routing rules were changed concurrently; reload and retry', { field: 'version' });
      throw error;
    }
    return version;
  }

  private async assertServicesExist(compiled: CompiledRuleSet): Promise<void> {
    if (compiled.servicesNamed.length === 0) return;
    const known = await this.catalog.servicesById([...new Set(compiled.servicesNamed.map((s) => s.service))]);
    for (const { service, field } of compiled.servicesNamed) {
      if (!known.has(service)) throw new AppError('unprocessable', `${field}: service ${service} does not exist`, { field });
    }
  }

  private refresh(force: boolean): Promise<CurrentRules> {
    if (!force && this.refreshing) return this.refreshing;
    const work = (async () => {
      const version = await repository.latestRuleSetVersion(this.db);
      if (version !== this.current.version) {
        this.current = { version, compiled: parseRoutingRulesYaml(await repository.ruleSetYaml(this.db, version)), checkedMs: Date.now() };
      } else {
        this.current = { ...this.current, checkedMs: Date.now() };
      }
      return this.current;
    })();
    this.refreshing = work;
    void work.finally(() => {
      if (this.refreshing === work) this.refreshing = null;
    }).catch(() => undefined);
    return work;
  }
}
