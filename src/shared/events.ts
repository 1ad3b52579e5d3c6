import { EventEmitter } from 'node:events';

/**
 * In-process notifications of committed changes. Emitted only after the transaction commits, so a
 * listener (live UI updates, plan triggers, notifications) never sees a change that was rolled back.
 * Capabilities add their own event names by declaration merging on `DomainEventMap`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DomainEventMap {}

type Listener<K extends keyof DomainEventMap> = (payload: DomainEventMap[K]) => void;
/** Sees every event by name; for relays (the console's live stream) that must not list event names. */
export type AnyEventListener = (name: keyof DomainEventMap, payload: DomainEventMap[keyof DomainEventMap]) => void;

export class DomainEvents {
  private readonly emitter = new EventEmitter({ captureRejections: false });
  private readonly anyListeners = new Set<AnyEventListener>();

  constructor() {
    // Every SSE client and every capability subscribes; the default warning at 10 is noise here.
    this.emitter.setMaxListeners(0);
  }

  on<K extends keyof DomainEventMap>(name: K, listener: Listener<K>): () => void {
    this.emitter.on(name as string, listener);
    return () => this.emitter.off(name as string, listener);
  }

  /** Subscribes to every event, including names capabilities add later. */
  onAny(listener: AnyEventListener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  emit<K extends keyof DomainEventMap>(name: K, payload: DomainEventMap[K]): void {
    // A failing listener must not undo or hide a committed change from the caller.
    for (const listener of this.emitter.listeners(name as string)) {
      try {
        (listener as Listener<K>)(payload);
      } catch (error) {
        this.emitter.emit('listener_error', { name, error });
      }
    }
    for (const listener of this.anyListeners) {
      try {
        listener(name, payload);
      } catch (error) {
        this.emitter.emit('listener_error', { name, error });
      }
    }
  }

  onListenerError(handler: (info: { name: unknown; error: unknown }) => void): void {
    this.emitter.on('listener_error', handler);
  }
}
