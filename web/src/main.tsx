import { render } from 'preact';
import './styles.css';
import './panels/index.ts';
import { App } from './app.tsx';
import { prefetch, storedToken } from './api.ts';
import { LIST_PAGE, countsPath, filtersFrom, incidentListPath, viewFrom } from './incidents.ts';

// Opening on the incident list (the usual case): fetch its first page and counts alongside the sign-in
// check. "Mine" needs to know who is signed in, so it waits.
if (storedToken() && (location.pathname === '/' || location.pathname === '/incidents')) {
  const search = new URLSearchParams(location.search);
  const filters = filtersFrom(search);
  const view = viewFrom(search);
  if (view !== 'mine') prefetch(incidentListPath(filters, view, '', LIST_PAGE, null));
  prefetch(countsPath(filters));
}

render(<App />, document.getElementById('app')!);
