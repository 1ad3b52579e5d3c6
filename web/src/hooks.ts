import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';

export type Async<T> =
  | { state: 'loading'; data?: T }
  | { state: 'ready'; data: T }
  | { state: 'error'; error: ApiError; data?: T };

/**
 * Loads with `load` whenever `deps` change; `reload` refetches keeping the last data on screen.
 * Responses from superseded loads are dropped, so a slow old answer never overwrites a new one.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> & { reload(): void; set(data: T | ((previous: T | undefined) => T)): void } {
  const [result, setResult] = useState<Async<T>>({ state: 'loading' });
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  const run = useCallback(() => {
    const mine = ++generation.current;
    const controller = new AbortController();
    loadRef.current(controller.signal).then(
      (data) => mine === generation.current && setResult({ state: 'ready', data }),
      (error: unknown) => {
        if (mine !== generation.current || (error as Error).name === 'AbortError') return;
        const apiError =
          error instanceof ApiError ? error : new ApiError({ title: 'Error', status: 0, code: 'client', detail: String((error as Error).message ?? error) });
        setResult((previous) => ({ state: 'error', error: apiError, ...(previous.data !== undefined ? { data: previous.data } : {}) }));
      },
    );
    return controller;
  }, []);
  useEffect(() => {
    setResult((previous) => ({ state: 'loading', ...(previous.data !== undefined ? { data: previous.data } : {}) }));
    const controller = run();
    return () => controller.abort();
  }, deps);
  return {
    ...result,
    reload: () => void run(),
    set: (data) => setResult((previous) => ({ state: 'ready', data: typeof data === 'function' ? (data as (p: T | undefined) => T)(previous.data) : data })),
  };
}
