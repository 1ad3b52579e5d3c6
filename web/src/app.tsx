import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, onUnauthorized, setCsrfToken, storeToken, storedToken } from './api.ts';
import { LiveStream, type StreamState } from './stream.ts';
import { SessionContext, type Session } from './session.ts';
import { getNavScreens, getScreens } from './registry.ts';
import { Link, matchPath, navigate, useLocation } from './router.tsx';
import { SHORTCUT_HELP, useShortcuts } from './shortcuts.ts';
import { SignIn } from './screens/SignIn.tsx';
import type { Lifecycle, Me } from './types.ts';

type Auth = { state: 'checking' } | { state: 'signed-out'; notice: string | null } | { state: 'signed-in'; me: Me; lifecycle: Lifecycle };

export function App() {
  // Always checks first: a session cookie (HttpOnly, so unseen here) may already sign this browser in.
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });

  const signOut = (notice: string | null = null, endSession = false) => {
    // Signing out ends the session on the server too, so the cookie is worthless even if it was copied.
    if (endSession && !storedToken()) void api.delete('/api/v1/sessions/current', { quiet: true }).catch(() => undefined);
    storeToken(null);
    setCsrfToken(null);
    setAuth({ state: 'signed-out', notice });
  };

  useEffect(() => {
    onUnauthorized((detail) => signOut(`Your session ended: ${detail}. Sign in again.`));
    if (auth.state === 'checking') void loadSession(true);
  }, []);

  const loadSession = async (firstLoad = false) => {
    try {
      // On first load without a token, ask whether the cookie still holds a session: the probe answers
      // 200 either way, so a browser nobody signed in to yet logs no failed request.
      if (firstLoad && !storedToken()) {
        const probe = await api.get<{ authenticated: boolean }>('/api/v1/sessions/current');
        if (!probe.authenticated) {
          setAuth({ state: 'signed-out', notice: null });
          return;
        }
      }
      // Both are needed before the first screen: asked together, not one after the other.
      const lifecyclePending = api.get<Lifecycle>('/api/v1/lifecycle');
      lifecyclePending.catch(() => undefined);
      const me = await api.get<Me>('/api/v1/me');
      setCsrfToken(me.csrf_token ?? null);
      const lifecycle = await lifecyclePending;
      setAuth({ state: 'signed-in', me, lifecycle });
    } catch {
      // a 401 already signed us out; anything else leaves the sign-in screen with the token kept out
      setAuth((current) =>
        current.state === 'signed-out' ? current : { state: 'signed-out', notice: firstLoad && !storedToken() ? null : 'The server could not be reached.' },
      );
    }
  };

  if (auth.state === 'checking') return <p class="loading-screen">Loading…</p>;
  if (auth.state === 'signed-out') {
    return (
      <SignIn
        notice={auth.notice}
        onSignedIn={(how) => {
          if ('token' in how) storeToken(how.token);
          setAuth({ state: 'checking' });
          void loadSession();
        }}
      />
    );
  }
  return <Console me={auth.me} lifecycle={auth.lifecycle} signOut={signOut} />;
}

function Console({ me, lifecycle, signOut }: { me: Me; lifecycle: Lifecycle; signOut: (notice?: string | null, endSession?: boolean) => void }) {
  const stream = useMemo(() => new LiveStream((detail) => signOut(`Your session ended: ${detail}. Sign in again.`)), []);
  const [streamState, setStreamState] = useState<StreamState>('connecting');
  const [helpOpen, setHelpOpen] = useState(false);
  const location = useLocation();
  const pendingG = useRef(false);

  useEffect(() => {
    const off = stream.onState(setStreamState);
    stream.start();
    return () => {
      off();
      stream.stop();
    };
  }, [stream]);

  const session: Session = { me, lifecycle, stream, streamState, signOut: (reason) => signOut(reason ?? null) };

  const goto = (target: string) => () => {
    if (!pendingG.current) return false;
    pendingG.current = false;
    navigate(target);
    return true;
  };
  useShortcuts({
    '?': () => setHelpOpen((open) => !open),
    g: () => {
      pendingG.current = true;
      setTimeout(() => (pendingG.current = false), 1500);
    },
    i: () => goto('/incidents')(),
    d: () => goto('/dashboards')(),
    s: () => goto('/settings')(),
  });

  const atRoot = location.path === '/' || location.path === '';
  const path = atRoot ? '/incidents' : location.path;
  useEffect(() => {
    if (atRoot) navigate('/incidents', { replace: true });
  }, [atRoot]);
  let match: { screen: ReturnType<typeof getScreens>[number]; params: Record<string, string> } | null = null;
  for (const screen of getScreens()) {
    const params = matchPath(screen.path, path);
    if (params) {
      match = { screen, params };
      break;
    }
  }
  useEffect(() => {
    // A screen about one record leads with its id (the tab strip shows the start); the screen may refine it.
    const id = match?.params.id;
    document.title = match ? `${id ? `${id} · ` : ''}${match.screen.title} · Firebreak` : 'Firebreak';
  }, [match?.screen.title, path]);
  // After client-side navigation, focus starts at the new content (as after a page load), not on the old link.
  const firstPath = useRef(path);
  useEffect(() => {
    if (path !== firstPath.current) document.getElementById('main')?.focus({ preventScroll: true });
    firstPath.current = '';
  }, [path]);

  return (
    <SessionContext.Provider value={session}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top" data-stream={streamState}>
        <Link href="/incidents" class="brand">
          <span aria-hidden="true" class="brand-mark" /> Firebreak
        </Link>
        <nav aria-label="Main">
          <ul>
            {getNavScreens().map((screen) => (
              <li key={screen.path}>
                <Link href={screen.path} aria-current={path.startsWith(screen.path) ? 'page' : undefined}>
                  {screen.nav!.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="who-name" title={me.kind === 'person' ? `${me.display_name} (${me.name})` : `API token ${me.name}`}>
            {me.display_name ?? me.name}
          </span>{' '}
          <span class={`badge role role-${me.role}`} data-testid="role">
            {me.role}
          </span>
          <button type="button" class="link-button" onClick={() => setHelpOpen(true)} aria-keyshortcuts="?">
            Shortcuts
          </button>
          <button type="button" class="link-button" onClick={() => signOut('You signed out.', true)}>
            Sign out
          </button>
        </div>
      </header>
      {streamState === 'lost' ? (
        <div class="banner" role="status" data-testid="connection-banner">
          Connection to the server lost; live updates are paused. Reconnecting…
        </div>
      ) : null}
      <main id="main" tabIndex={-1}>
        {match ? (
          <match.screen.component params={match.params} search={location.search} />
        ) : (
          <section>
            <h1>Not found</h1>
            <p>
              There is no page at <code>{path}</code>. <Link href="/incidents">Go to incidents</Link>.
            </p>
          </section>
        )}
      </main>
      {helpOpen ? <HelpDialog onClose={() => setHelpOpen(false)} /> : null}
    </SessionContext.Provider>
  );
}

function HelpDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    return () => opener?.focus();
  }, []);
  return (
    <dialog ref={ref} class="help" aria-labelledby="help-title" onClose={onClose} onCancel={onClose}>
      <h2 id="help-title">Keyboard shortcuts</h2>
      <table>
        <tbody>
          {SHORTCUT_HELP.map((s) => (
            <tr key={s.keys}>
              <th scope="row">
                <kbd>{s.keys}</kbd>
              </th>
              <td>{s.action}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit" class="primary">
          Close
        </button>
      </form>
    </dialog>
  );
}
