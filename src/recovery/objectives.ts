import type { Service } from '../catalog/index.ts';

/** One objective and the catalogue entry it came from; `null` values say the catalogue declares none. */
export interface SourcedObjective<T> {
  value: T | null;
  /** The affected service whose catalogue entry set the value (the strictest one). */
  source_service: string | null;
  /** Said in words when there is no value, so a plan never silently invents a default. */
  note: string;
}

export interface RecoveryObjectives {
  rto_minutes: SourcedObjective<number>;
  rpo_minutes: SourcedObjective<number>;
  slo_target: SourcedObjective<number>;
  data_integrity_required: { value: boolean; services: string[]; note: string };
  /** The most critical tier among the affected services (1 is most critical); picks the default step list. */
  tier: SourcedObjective<number>;
  services: string[];
}

function strictest(
  services: readonly Service[],
  pick: (s: Service) => number | null,
  better: (a: number, b: number) => boolean,
  what: string,
): SourcedObjective<number> {
  let best: { value: number; service: string } | null = null;
  for (const service of services) {
    const value = pick(service);
    if (value === null) continue;
    if (best === null || better(value, best.value)) best = { value, service: service.id };
  }
  if (best === null) {
    const note =
      services.length === 0
        ? `the incident names no affected services, so there is no ${what}`
        : `no affected service (${services.map((s) => s.id).join(', ')}) declares a ${what} in the catalogue, so it is not tracked`;
    return { value: null, source_service: null, note };
  }
  const others = services.filter((s) => s.id !== best.service && pick(s) !== null).map((s) => `${s.id}: ${pick(s)}`);
  return {
    value: best.value,
    source_service: best.service,
    note: `${what} ${best.value} from service ${best.service}${others.length ? `, the strictest of ${[`${best.service}: ${best.value}`, ...others].join(', ')}` : ''}`,
  };
}

/**
 * Recovery objectives for an incident, from its affected services' catalogue entries: when several
 * services are affected the strictest value wins (shortest RTO/RPO, highest SLO target, lowest tier
 * number) and the plan says which service it came from.
 */
export function objectivesFromServices(services: readonly Service[]): RecoveryObjectives {
  const integrity = services.filter((s) => s.data_integrity_required).map((s) => s.id);
  return {
    rto_minutes: strictest(services, (s) => s.rto_minutes, (a, b) => a < b, 'RTO (minutes)'),
    rpo_minutes: strictest(services, (s) => s.rpo_minutes, (a, b) => a < b, 'RPO (minutes)'),
    slo_target: strictest(services, (s) => s.slo_target, (a, b) => a > b, 'SLO target'),
    tier: strictest(services, (s) => s.tier, (a, b) => a < b, 'tier'),
    data_integrity_required: {
      value: integrity.length > 0,
      services: integrity,
      note: integrity.length > 0 ? `data integrity must be verified for ${integrity.join(', ')}` : 'no affected service requires a data-integrity check',
    },
    services: services.map((s) => s.id),
  };
}
