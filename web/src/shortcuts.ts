import { useEffect, useRef } from 'preact/hooks';

/** An action returns `false` when it did not handle the key, leaving the browser's default alone. */
export type ShortcutMap = Record<string, (event: KeyboardEvent) => unknown>;

function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Single-key shortcuts, ignored while the user types in a field or holds a modifier. */
export function useShortcuts(map: ShortcutMap): void {
  const latest = useRef(map);
  latest.current = map;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || typingInto(event.target)) return;
      if (document.querySelector('dialog[open]') && event.key !== '?') return;
      const action = latest.current[event.key];
      if (!action) return;
      if (action(event) !== false) event.preventDefault();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

/** The documented shortcuts, shown by `?`. */
export const SHORTCUT_HELP: readonly { keys: string; action: string }[] = [
  { keys: '?', action: 'show this help' },
  { keys: 'j / k', action: 'next / previous incident (list and incident page)' },
  { keys: 'Enter or o', action: 'open the selected incident' },
  { keys: 'a', action: 'acknowledge the selected or open incident' },
  { keys: 'x', action: 'select the incident for a bulk acknowledge or resolve' },
  { keys: '/', action: 'search incidents' },
  { keys: 'g then i / d / s', action: 'go to incidents / dashboards / settings' },
  { keys: 'Esc', action: 'close a dialog' },
];

/** The incident ids of the list last shown, so `j`/`k` on an incident page move through the same list. */
let listOrder: string[] = [];
export const rememberListOrder = (ids: string[]) => void (listOrder = ids);
export const neighbourIncident = (id: string, step: 1 | -1): string | undefined => {
  const index = listOrder.indexOf(id);
  return index < 0 ? undefined : listOrder[index + step];
};
