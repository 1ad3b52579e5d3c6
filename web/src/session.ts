import { createContext } from 'preact';
import { useContext, useEffect, useRef } from 'preact/hooks';
import type { Lifecycle, Me } from './types.ts';
import type { LiveStream, StreamState } from './stream.ts';

export interface Session {
  me: Me;
  lifecycle: Lifecycle;
  stream: LiveStream;
  streamState: StreamState;
  signOut(reason?: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

export function canWrite(me: Me): boolean {
  return me.role === 'responder' || me.role === 'admin';
}

/** Calls `handler` for every live event while the component is mounted; the latest handler is always used. */
export function useLiveEvents(handler: (name: string, data: unknown) => void): void {
  const { stream } = useSession();
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => stream.subscribe((name, data) => latest.current(name, data)), [stream]);
}

/** Whether a live event's payload concerns this incident, whatever capability sent it. */
export function eventMentionsIncident(data: unknown, incidentId: string): boolean {
  if (!data || typeof data !== 'object') return false;
  const record = data as Record<string, unknown>;
  if (record.incident_id === incidentId) return true;
  for (const value of Object.values(record)) {
    if (value && typeof value === 'object') {
      const nested = value as Record<string, unknown>;
      if (nested.incident_id === incidentId) return true;
      if (nested.id === incidentId) return true;
    }
  }
  return false;
}
