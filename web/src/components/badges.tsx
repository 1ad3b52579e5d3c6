import { humanise } from '../format.ts';

/**
 * Severity is never told by colour alone: each level has its own shape and its name is always
 * written, so the badge reads the same in greyscale and to every kind of colour vision.
 */
const SEVERITY_SHAPES: Record<string, string> = { critical: '◆', high: '▲', medium: '●', low: '○' };

export function SeverityBadge({ severity }: { severity: string }) {
  return (
    <span class={`badge severity severity-${severity}`} title={`severity: ${severity}`}>
      <span aria-hidden="true" class="shape">
        {SEVERITY_SHAPES[severity] ?? '■'}
      </span>
      {severity}
    </span>
  );
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status status-${status}`}>{humanise(status)}</span>;
}
