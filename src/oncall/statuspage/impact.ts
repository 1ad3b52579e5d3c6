import type { Severity } from '../../incidents/lifecycle.ts';
import type { ServiceStatus } from './schemas.ts';

/** A component's public status, best first. Here rather than in the schemas so the console imports no schema library. */
export const SERVICE_STATUSES = ['operational', 'degraded_performance', 'partial_outage', 'major_outage'] as const;

/**
 * What an incident of a severity shows on the public page for the services it affects. Kept free of
 * imports with values so the console's update preview uses this very rule.
 */
export function impactOf(severity: Severity): ServiceStatus {
  if (severity === 'critical') return 'major_outage';
  if (severity === 'high') return 'partial_outage';
  return 'degraded_performance';
}
