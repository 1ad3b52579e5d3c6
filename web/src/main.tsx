import { render } from 'preact';
import './styles.css';
import './panels/index.ts';
import { App } from './app.tsx';
import { prefetch, storedToken } from './api.ts';
import { ACTIVE_PAGE, CLOSED_PAGE, filtersFrom, incidentListPath } from './incidents.ts';

// Opening on the incident list (the usual case): fetch its first pages alongside the sign-in check.
if (storedToken() && (location.pathname === '/' || location.pathname === '/incidents')) {
  const filters = filtersFrom(new URLSearchParams(location.search));
  prefetch(incidentListPath(filters, true, ACTIVE_PAGE, null));
  prefetch(incidentListPath(filters, false, CLOSED_PAGE, null));
}

render(<App />, document.getElementById('app')!);
