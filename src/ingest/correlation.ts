import { createHash } from 'node:crypto';
import type { EvidenceKind } from './schemas.ts';

/**
 * Correlation evidence is pre-computed per incident as index keys, written when the incident is created
 * or gains alerts, services, a root cause or a `caused_by` link:
 *   svc:<service>        an affected service
 *   lbl:<name>=<value>   a label of one of its alerts (high-cardinality labels left out)
 *   rc:<hash>            its root cause text, normalised
 *   cause:<incident>     the incident it was caused by
 * Each row carries the hour bucket of the incident's detection, so a lookup reads only the rows of a
 * few keys in a few buckets, never the history.
 */
export const BUCKET_MS = 3_600_000;
/** Candidates are looked for this many hours either side of the incident's detection. */
export const PROXIMITY_HOURS = 6;
export const MAX_LABEL_KEYS = 40;

/** Labels that identify one instance rather than a failure; sharing them says little. */
const HIGH_CARDINALITY_LABELS = new Set([
  'instance', 'pod', 'pod_name', 'container_id', 'id', 'uid', 'request_id', 'trace_id', 'span_id', 'fingerprint',
  'timestamp', 'severity', 'service', 'source', 'endpoint', 'ip', 'host', 'hostname',
]);

export function bucketOf(iso: string): number {
  return Math.floor(Date.parse(iso) / BUCKET_MS);
}

export function serviceKey(service: string): string {
  return `svc:${service}`;
}

export function causeKey(incidentId: string): string {
  return `cause:${incidentId}`;
}

export function labelKeys(labels: Readonly<Record<string, string>>): string[] {
  const keys: string[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (HIGH_CARDINALITY_LABELS.has(name) || value === '' || value.length > 200 || name.length > 100) continue;
    keys.push(`lbl:${name}=${value}`);
    if (keys.length >= MAX_LABEL_KEYS) break;
  }
  return keys.sort();
}

/** Root causes written by different people differ in case, spacing and punctuation; those do not make them different. */
export function rootCauseKey(rootCause: string | null | undefined): string | null {
  if (!rootCause) return null;
  const normalised = rootCause.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  if (normalised.length < 8) return null;
  return `rc:${createHash('sha256').update(normalised).digest('hex').slice(0, 32)}`;
}

export interface CorrelationSubject {
  id: string;
  services: readonly string[];
  detectedAt: string;
  labelKeys: ReadonlySet<string>;
}

export interface CandidateEvidence {
  id: string;
  detectedAt: string;
  sharedServices: string[];
  /** [this incident's service, the candidate's service, direction] pairs linked by a catalogue dependency. */
  dependencies: { mine: string; theirs: string; direction: 'depends_on' | 'depended_on_by' }[];
  sharedLabels: string[];
  candidateLabelCount: number;
  sharedRootCause: boolean;
  sharedCause: string[];
  /** Changes both incidents followed; `strength` is the lower of the change's suspect scores for the two (0–1). */
  sharedChanges: { description: string; strength: number }[];
  links: string[];
}

export interface CandidateScore {
  score: number;
  evidence: EvidenceKind[];
  reason: string;
}

/**
 * What each kind of evidence adds to a candidate's score (capped at 1). Label similarity is scaled by the
 * Jaccard index of the two incidents' alert labels, time proximity by closeness within PROXIMITY_HOURS, and
 * a shared change by the strongest shared change's `strength`.
 */
export const CORRELATION_WEIGHTS = {
  shared_service: 0.35,
  service_dependency: 0.3,
  shared_root_cause: 0.45,
  shared_change: 0.4,
  label_similarity: 0.3,
  time_proximity: 0.2,
  linked: 0.5,
} as const;
const WEIGHTS = CORRELATION_WEIGHTS;

function describeGap(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes < 1) return 'within a minute of each other';
  if (minutes < 120) return `${minutes} min apart`;
  return `${(minutes / 60).toFixed(1)} h apart`;
}

/** Scores one candidate from its evidence; the reason lists the evidence in words. */
export function scoreCandidate(subject: CorrelationSubject, candidate: CandidateEvidence): CandidateScore {
  const evidence: EvidenceKind[] = [];
  const reasons: string[] = [];
  let score = 0;
  if (candidate.links.length > 0) {
    evidence.push('linked');
    reasons.push(`linked by a responder as ${candidate.links.join(', ')}`);
    score += WEIGHTS.linked;
  }
  if (candidate.sharedServices.length > 0) {
    evidence.push('shared_service');
    reasons.push(`both affect ${candidate.sharedServices.join(', ')}`);
    score += WEIGHTS.shared_service;
  }
  if (candidate.dependencies.length > 0) {
    evidence.push('service_dependency');
    reasons.push(
      candidate.dependencies
        .slice(0, 3)
        .map((d) => (d.direction === 'depends_on' ? `${d.mine} depends on ${d.theirs}` : `${d.theirs} depends on ${d.mine}`))
        .join('; '),
    );
    score += WEIGHTS.service_dependency;
  }
  if (candidate.sharedRootCause || candidate.sharedCause.length > 0) {
    evidence.push('shared_root_cause');
    reasons.push(
      candidate.sharedCause.length > 0 ? `both caused by ${candidate.sharedCause.join(', ')}` : 'the same root cause was recorded on both',
    );
    score += WEIGHTS.shared_root_cause;
  }
  if (candidate.sharedChanges.length > 0) {
    const strongest = [...candidate.sharedChanges].sort((a, b) => b.strength - a.strength);
    evidence.push('shared_change');
    reasons.push(
      `both followed ${strongest
        .slice(0, 2)
        .map((c) => c.description)
        .join(' and ')}${strongest.length > 2 ? ` and ${strongest.length - 2} more change${strongest.length > 3 ? 's' : ''}` : ''} (a suspect scoring at least ${strongest[0]!.strength.toFixed(2)} for each)`,
    );
    score += WEIGHTS.shared_change * strongest[0]!.strength;
  }
  if (candidate.sharedLabels.length > 0) {
    const union = subject.labelKeys.size + candidate.candidateLabelCount - candidate.sharedLabels.length;
    const jaccard = union > 0 ? candidate.sharedLabels.length / union : 0;
    evidence.push('label_similarity');
    const shown = candidate.sharedLabels.slice(0, 4).map((k) => k.slice(4));
    reasons.push(`${candidate.sharedLabels.length} alert label${candidate.sharedLabels.length > 1 ? 's' : ''} in common (${shown.join(', ')}${candidate.sharedLabels.length > 4 ? ', …' : ''})`);
    score += WEIGHTS.label_similarity * jaccard;
  }
  const gapMs = Date.parse(candidate.detectedAt) - Date.parse(subject.detectedAt);
  const closeness = Math.max(0, 1 - Math.abs(gapMs) / (PROXIMITY_HOURS * BUCKET_MS));
  if (closeness > 0) {
    evidence.push('time_proximity');
    reasons.push(`detected ${describeGap(gapMs)}`);
    score += WEIGHTS.time_proximity * closeness;
  }
  return { score: Math.min(1, Math.round(score * 1000) / 1000), evidence, reason: reasons.join('; ') };
}
