/** Streaming anomaly detection for LLM signals that have no SLO (cost, tokens, TTFT, safety-flag rate). */
export {
  createAnomalyDetector,
  restoreAnomalyDetector,
  resolveDetectorConfig,
  DEFAULT_DETECTOR_CONFIG,
  type AnomalyDetector,
  type AnomalyDetectorConfig,
  type AnomalyDetectorState,
  type Detection,
  type DetectorRule,
  type Model,
  type RecentPoint,
  type RejectReason,
  type RejectedCounts,
} from './detector.ts';
export { RateDetector, RATE_RULES, type RateRule, type RateVerdict, type RateMinute, type RateDetectorState, type RateStatus } from './rates.ts';
export { DETECTOR_TUNING_SPACE, type TunableParameter } from './space.ts';
