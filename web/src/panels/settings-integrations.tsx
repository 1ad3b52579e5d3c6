import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay, SecretShownOnce, useAction } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { formatAgo, formatCount, formatDateTimeZone, formatNumber, formatTime } from '../format.ts';
import type { CreatedIntegration, IntegrationDetail, Service } from '../types.ts';

/** A path the server answered with, as the full URL a sender must be configured with. */
const absolute = (url: string) => new URL(url, location.origin).href;

/** Alert-ingestion integrations: what each received and when, where senders post, and one routing key per sender, shown once. */
export function IntegrationsSettings() {
  const integrations = useAsync((signal) => api.get<IntegrationDetail[]>('/api/v1/integrations', { signal }), []);
  const services = useAsync((signal) => api.get<Service[]>('/api/v1/services', { signal }), []);
  const [created, setCreated] = useState<CreatedIntegration | null>(null);
  const action = useAction();

  if (integrations.state === 'error' && integrations.error.status === 404) return <p class="muted">Alert ingestion is not installed.</p>;

  const remove = (integration: IntegrationDetail) => {
    if (!confirm(`Delete integration ${integration.name}? Its routing key stops working.`)) return;
    void action.run(() => api.delete(`/api/v1/integrations/${encodeURIComponent(integration.id)}`)).then((ok) => ok && integrations.reload());
  };
  const endpoints = integrations.data?.[0]?.endpoints;

  return (
    <div>
      <h2>Integrations</h2>
      {created ? (
        <SecretShownOnce secret={created.routing_key} testId="new-routing-key" onDone={() => setCreated(null)}>
          <strong>Integration {created.name} created.</strong> Copy its routing key now: it is shown only this once. Use it as the Events API
          <code> routing_key</code> or as the Alertmanager bearer token.
        </SecretShownOnce>
      ) : null}
      <ProblemDisplay of={integrations} />
      <ProblemDisplay problem={action.problem} />
      <DataTable
        testId="integrations-table"
        rows={integrations.data}
        rowKey={(i) => i.id}
        columns={[
          { header: 'name', rowHeader: true, cell: (i) => i.name },
          { header: 'service', cell: (i) => i.service },
          {
            header: 'last event',
            cell: (i) =>
              i.activity.last_event_at ? (
                <time dateTime={i.activity.last_event_at} title={formatDateTimeZone(i.activity.last_event_at)} data-testid="last-event">
                  {formatAgo(i.activity.last_event_at)}
                </time>
              ) : (
                <span class="muted">never</span>
              ),
          },
          {
            header: 'received',
            cell: (i) => (
              <span data-testid="event-counts">
                {formatCount(i.activity.events)} events, {formatCount(i.activity.alerts)} alerts ({formatCount(i.activity.open_alerts)} open)
              </span>
            ),
          },
          {
            header: 'key starts',
            cell: (i) => <code>{i.key_hint}…</code>,
          },
          { header: 'rate limit', cell: (i) => `${formatNumber(i.rate_limit.per_second)}/s, burst ${formatCount(i.rate_limit.burst)}` },
          { header: 'created', cell: (i) => `${formatTime(i.created_at)} by ${i.created_by}` },
          {
            header: '',
            cell: (i) => (
              <button type="button" class="danger" onClick={() => remove(i)} aria-label={`Delete integration ${i.name}`}>
                Delete
              </button>
            ),
          },
        ]}
      />
      {endpoints ? (
        <dl class="facts" data-testid="integration-endpoints" aria-label="Where senders post">
          <div>
            <dt>PagerDuty Events API v2 (routing_key in the body)</dt>
            <dd>
              <code>{absolute(endpoints.events_v2)}</code>
            </dd>
          </div>
          <div>
            <dt>Alertmanager webhook (routing key as bearer token)</dt>
            <dd>
              <code>{absolute(endpoints.alertmanager)}</code>
            </dd>
          </div>
          <div>
            <dt>Generic JSON alerts (bearer token or ?key=)</dt>
            <dd>
              <code>{absolute(endpoints.generic)}</code>
            </dd>
          </div>
        </dl>
      ) : null}
      <SchemaForm
        id="integration"
        title="New integration"
        operation={{ method: 'post', path: '/api/v1/integrations' }}
        fields={[
          { name: 'name', label: 'Name', hint: 'the sender, e.g. “Alertmanager prod”' },
          { name: 'service', label: 'Service', kind: 'select', placeholder: 'choose…', choices: (services.data ?? []).map((s) => ({ value: s.id, label: `${s.name} (${s.id})` })) },
        ]}
        initial={{ name: '', service: '' }}
        toBody={(v) => ({ name: v.name?.trim(), service: v.service })}
        send={(body) => api.post<CreatedIntegration>('/api/v1/integrations', body)}
        onDone={(result) => {
          setCreated(result);
          integrations.reload();
        }}
        submitLabel="Create integration"
      />
    </div>
  );
}
