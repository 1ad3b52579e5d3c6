import { useEffect, useRef } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import type { IncidentPanelDefinition, IncidentPanelProps } from '../registry.ts';
import { eventMentionsIncident, useLiveEvents } from '../session.ts';
import { RESYNC_EVENT } from '../stream.ts';
import { GenericData } from '../components/GenericData.tsx';
import { ProblemDisplay } from '../components/forms.tsx';

export interface CapabilitySlot {
  id: string;
  title: string;
  order: number;
  /** The endpoint that answers for this incident once the capability is installed. */
  endpoint: (incidentId: string) => string;
}

/**
 * A labelled slot on the incident page for a capability built elsewhere (alerts, related incidents,
 * plan executions, recovery, postmortem). It asks the capability's endpoint: a 404 means the capability
 * is not installed and the slot renders nothing; an answer is shown exactly as returned. A capability
 * replaces its slot with a dedicated panel by registering its own component in `panels/index.ts`.
 */
export function capabilitySlot(slot: CapabilitySlot): IncidentPanelDefinition {
  function SlotPanel({ incident }: IncidentPanelProps) {
    const path = slot.endpoint(incident.id);
    const data = useAsync((signal) => api.get<unknown>(path, { signal }), [path]);
    const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
    useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
    useLiveEvents((name, payload) => {
      if (data.state === 'error' && data.error.status === 404) return;
      if (name !== RESYNC_EVENT && !eventMentionsIncident(payload, incident.id)) return;
      // Several events arrive per change; one refetch covers them.
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => data.reload(), 300);
    });
    if (data.state === 'error' && data.error.status === 404) return null;
    if (data.state === 'loading' && data.data === undefined) return null;
    return (
      <section class="panel capability-slot" data-slot={slot.id} aria-labelledby={`slot-${slot.id}`}>
        <h2 id={`slot-${slot.id}`}>{slot.title}</h2>
        {data.state === 'error' ? <ProblemDisplay problem={data.error.problem} /> : <GenericData data={data.data} />}
      </section>
    );
  }
  return { id: slot.id, title: slot.title, order: slot.order, component: SlotPanel };
}
