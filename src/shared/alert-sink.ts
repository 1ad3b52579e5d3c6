/**
 * The contract between signal producers inside Firebreak (LLM detectors, SLO burn-rate rules) and the
 * alert pipeline (src/ingest). Detections go through the same dedup, routing and grouping as external
 * alerts. The ingest capability provides the implementation as `ctx.services.alertSink`.
 */
export interface InternalAlert {
  /** Stable identity of the condition; raising again with the same key counts an occurrence. */
  dedupKey: string;
  service: string;
  severity: 'critical' | 'error' | 'warning' | 'info';
  summary: string;
  /** Where it came from, e.g. `firebreak.slo` or `firebreak.detector`. */
  source: string;
  labels: Record<string, string>;
  /** Why it fired: the signal, its window of values, the baseline and the threshold crossed. */
  details: Record<string, unknown>;
  at: string;
  /** Where the alert goes when `service` is not in the catalogue (the service of the integration that sent the telemetry). */
  fallbackService?: string;
}

export interface AlertSink {
  raise(alert: InternalAlert): Promise<{ alertId: string; incidentId: string | null }>;
  resolve(dedupKey: string, at: string, details?: Record<string, unknown>): Promise<void>;
}
