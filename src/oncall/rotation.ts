import { DateTime, IANAZone } from 'luxon';
import { AppError } from '../shared/errors.ts';

/**
 * Who is on call, computed from a schedule's layers and overrides. Pure: no I/O, time comes in as an
 * argument. Handoffs are wall-clock times in the schedule's IANA zone, so a daily 09:00 Europe/Berlin
 * handoff stays at 09:00 local on both sides of a DST change (the shift that spans the change is an
 * hour shorter or longer in absolute time).
 */

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface ScheduleLayer {
  name: string;
  rotation: 'daily' | 'weekly';
  /** Days (daily) or weeks (weekly) each person holds the shift. */
  shift_length: number;
  /** Local `HH:MM` in the schedule's zone. */
  handoff_time: string;
  /** Weekly rotations hand off on this day (default monday). */
  handoff_day?: Weekday;
  /** Local date (YYYY-MM-DD) of the first handoff; weekly layers start at the first handoff_day on or after it. */
  start: string;
  /** Optional instant after which the layer no longer covers anything. */
  end?: string;
  users: string[];
}

export interface ScheduleOverride {
  id: number;
  user: string;
  starts_at: string;
  ends_at: string;
  created_at: string;
}

export interface OnCallShift {
  user: string;
  source: 'override' | 'layer';
  /** Layer name, or `override #id`. */
  via: string;
  from: string;
  until: string | null;
}

export function assertValidZone(zone: string, field: string): void {
  if (!IANAZone.isValidZone(zone)) {
    throw new AppError('validation_failed', `${field}: ${zone} is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`, { field });
  }
}

/** Semantic checks the schema cannot express; throws naming the offending field. */
export function validateLayers(layers: readonly ScheduleLayer[], zone: string, field = 'layers'): void {
  assertValidZone(zone, 'time_zone');
  layers.forEach((layer, i) => {
    const at = `${field}[${i}]`;
    if (!Number.isInteger(layer.shift_length) || layer.shift_length < 1) {
      throw new AppError('validation_failed', `${at}.shift_length: a rotation needs shifts of at least one ${layer.rotation === 'daily' ? 'day' : 'week'}`, {
        field: `${at}.shift_length`,
      });
    }
    if (layer.users.length === 0) throw new AppError('validation_failed', `${at}.users: a rotation needs at least one person`, { field: `${at}.users` });
    const start = DateTime.fromISO(layer.start, { zone });
    if (!start.isValid) throw new AppError('validation_failed', `${at}.start: not a date`, { field: `${at}.start` });
    if (layer.end !== undefined && Date.parse(layer.end) <= firstHandoff(layer, zone).toMillis()) {
      throw new AppError('validation_failed', `${at}.end: must be after the first handoff (${firstHandoff(layer, zone).toISO()})`, { field: `${at}.end` });
    }
    if (layer.rotation === 'daily' && layer.handoff_day !== undefined) {
      throw new AppError('validation_failed', `${at}.handoff_day: only weekly rotations hand off on a weekday`, { field: `${at}.handoff_day` });
    }
  });
}

function firstHandoff(layer: ScheduleLayer, zone: string): DateTime {
  const [hour, minute] = layer.handoff_time.split(':').map(Number) as [number, number];
  let anchor = DateTime.fromISO(layer.start.slice(0, 10), { zone }).set({ hour, minute, second: 0, millisecond: 0 });
  if (layer.rotation === 'weekly') {
    const weekday = WEEKDAYS.indexOf(layer.handoff_day ?? 'monday') + 1;
    anchor = anchor.plus({ days: (weekday - anchor.weekday + 7) % 7 });
  }
  return anchor;
}

/** The shift of one layer covering `at`, or null when the layer does not cover it (before its start, after its end). */
export function layerShiftAt(layer: ScheduleLayer, zone: string, at: Date): OnCallShift | null {
  const anchor = firstHandoff(layer, zone);
  const instant = DateTime.fromJSDate(at, { zone });
  if (instant < anchor) return null;
  if (layer.end !== undefined && at.getTime() >= Date.parse(layer.end)) return null;
  const stepDays = layer.rotation === 'daily' ? layer.shift_length : layer.shift_length * 7;
  // Calendar-day arithmetic in the zone keeps handoffs on local wall-clock time across DST changes.
  const handoff = (k: number) => anchor.plus({ days: k * stepDays });
  let k = Math.max(0, Math.floor(instant.diff(anchor, 'days').days / stepDays));
  while (handoff(k + 1) <= instant) k++;
  while (k > 0 && handoff(k) > instant) k--;
  const next = handoff(k + 1);
  const endMillis = layer.end !== undefined ? Date.parse(layer.end) : Infinity;
  return {
    user: layer.users[k % layer.users.length]!,
    source: 'layer',
    via: layer.name,
    from: handoff(k).toUTC().toISO()!,
    until: new Date(Math.min(next.toMillis(), endMillis)).toISOString(),
  };
}

/**
 * Who is on call at `at`: an override covering the instant wins (the latest created one, when several
 * do); otherwise the highest layer (last in the list) that covers the instant. Lower layers fill the gaps
 * of higher ones, so overlapping layers are allowed.
 */
export function onCallAt(layers: readonly ScheduleLayer[], overrides: readonly ScheduleOverride[], zone: string, at: Date): OnCallShift | null {
  const iso = at.toISOString();
  const covering = overrides
    .filter((o) => o.starts_at <= iso && iso < o.ends_at)
    .sort((a, b) => (a.created_at === b.created_at ? b.id - a.id : b.created_at.localeCompare(a.created_at)));
  const override = covering[0];
  if (override) return { user: override.user, source: 'override', via: `override #${override.id}`, from: override.starts_at, until: override.ends_at };
  for (let i = layers.length - 1; i >= 0; i--) {
    const shift = layerShiftAt(layers[i]!, zone, at);
    if (shift) return shift;
  }
  return null;
}
