import { openDatabase, toJson } from '../../src/storage/index.ts';
import type { IncidentTables } from '../../src/incidents/index.ts';
import type { CatalogTables } from '../../src/catalog/index.ts';
import type { IngestTables } from '../../src/ingest/index.ts';
import { formatIncidentId } from '../../src/incidents/index.ts';
import { bucketOf, labelKeys, serviceKey } from '../../src/ingest/correlation.ts';

type Tables = IncidentTables & CatalogTables & IngestTables;

const SERVICES = 50;
const DAYS = 60;
const BATCH = 500;
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/**
 * Seeds `count` historical incidents straight into the tables (not through HTTP), with the correlation
 * index rows the ingest capability keeps for each: its service and the labels of its alerts. Incidents
 * are spread over the 60 days before today, so today's ids stay free for the server. Returns their ids.
 */
export async function seedIncidents(url: string, count: number): Promise<string[]> {
  const database = openDatabase(url, { poolSize: 4 });
  const db = database.db.withTables<Tables>();
  try {
    const now = Date.now();
    const created = new Date(now).toISOString();
    const serviceRows = Array.from({ length: SERVICES }, (_, i) => ({
      id: `seed-${i}`,
      name: `seed ${i}`,
      description: '',
      owner_team: null,
      tier: 1 + (i % 4),
      rto_minutes: null,
      rpo_minutes: null,
      slo_target: null,
      data_integrity_required: 0,
      // A layered architecture: each service depends on one or two in the layer below.
      depends_on: toJson(i < 10 ? [] : [`seed-${i % 10}`, ...(i % 3 === 0 ? [`seed-${(i + 1) % 10}`] : [])]),
      created_at: created,
      updated_at: created,
      version: 1,
    }));
    await db.insertInto('services').values(serviceRows).onConflict((oc) => oc.column('id').doNothing()).execute();

    const perDay = new Map<string, number>();
    const ids: string[] = [];
    const dayMs = 86_400_000;
    const startOfToday = Math.floor(now / dayMs) * dayMs;
    for (let offset = 0; offset < count; offset += BATCH) {
      const incidents: IncidentTables['incidents'][] = [];
      const links: IncidentTables['incident_services'][] = [];
      const index: IngestTables['correlation_index'][] = [];
      for (let n = offset; n < Math.min(count, offset + BATCH); n++) {
        const at = new Date(startOfToday - DAYS * dayMs + Math.floor(((n + 0.5) / count) * DAYS * dayMs));
        const day = at.toISOString().slice(0, 10).replace(/-/g, '');
        const number = (perDay.get(day) ?? 0) + 1;
        perDay.set(day, number);
        const id = formatIncidentId(at, number);
        const service = `seed-${(n * 7) % SERVICES}`;
        const iso = at.toISOString();
        incidents.push({
          id, title: `seeded incident ${n} on ${service}`, description: '', severity: SEVERITIES[n % 4]!, status: n % 50 === 0 ? 'investigating' : 'resolved',
          impact_users_affected: null, impact_revenue: null, impact_description: null, services: toJson([service]), team: null, assignee: null,
          detected_at: iso, acknowledged_at: iso, acknowledged_by: 'seed', resolved_at: n % 50 === 0 ? null : iso, actions_taken: '[]', root_cause: null,
          resolution: null, lessons_learned: null, labels: '{}', created_by: 'seed', created_at: iso, updated_at: iso, version: 1,
        });
        links.push({ incident_id: id, service });
        const keys = [serviceKey(service), ...labelKeys({ alertname: `Alert${n % 30}`, cluster: `cluster-${n % 5}`, namespace: `ns-${n % 12}` })];
        for (const key of keys) index.push({ key, incident_id: id, bucket: bucketOf(iso), at: iso });
        ids.push(id);
      }
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('incidents').values(incidents).execute();
        await trx.insertInto('incident_services').values(links).execute();
        for (let i = 0; i < index.length; i += BATCH) await trx.insertInto('correlation_index').values(index.slice(i, i + BATCH)).execute();
      });
    }
    for (const [day, last] of perDay) {
      await db
        .insertInto('incident_counters')
        .values({ day, last_number: last })
        .onConflict((oc) => oc.column('day').doUpdateSet({ last_number: last }))
        .execute();
    }
    return ids;
  } finally {
    await database.close();
  }
}
