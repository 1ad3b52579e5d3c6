import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { useSession } from '../session.ts';
import { ProblemDisplay, useAction } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { SchemaForm, numberOf, optional, type FieldSpec, type Values } from '../components/SchemaForm.tsx';
import { formatPercent } from '../format.ts';
import type { Service, Team } from '../types.ts';

const servicePath = (id: string) => `/api/v1/services/${encodeURIComponent(id)}`;

/** The fields a service has besides its id, as the create and the edit form show them. */
function objectiveFields(teams: readonly Team[]): FieldSpec[] {
  return [
    { name: 'name', label: 'Name (optional)' },
    { name: 'owner_team', label: 'Owner team', kind: 'select', placeholder: 'none', choices: teams.map((t) => ({ value: t.id, label: `${t.name} (${t.id})` })) },
    { name: 'tier', label: 'Tier', kind: 'select', hint: '1 is the most critical' },
    { name: 'rto_minutes', label: 'RTO in minutes (optional)', inputMode: 'numeric' },
    { name: 'slo_target', label: 'SLO target (optional)', inputMode: 'decimal', hint: 'e.g. 0.999' },
    { name: 'description', label: 'Description (optional)', kind: 'textarea', rows: 2 },
  ];
}

/** Each service's tier and recovery objectives: listed, created, edited in place and deleted. */
export function ServicesSettings() {
  const { me } = useSession();
  const admin = me.role === 'admin';
  const services = useAsync((signal) => api.get<Service[]>('/api/v1/services', { signal }), []);
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  const action = useAction();
  const [editing, setEditing] = useState<string | null>(null);
  const edited = services.data?.find((s) => s.id === editing);

  const remove = (service: Service) => {
    if (!confirm(`Delete service ${service.id}?`)) return;
    void action.run(() => api.delete(servicePath(service.id))).then((ok) => ok && services.reload());
  };

  return (
    <div>
      <h2>Services</h2>
      <p class="muted">Each service's tier and recovery objectives drive ownership, routing and recovery.</p>
      <ProblemDisplay of={services} />
      <ProblemDisplay problem={action.problem} />
      <DataTable
        testId="services-table"
        rows={services.data}
        rowKey={(s) => s.id}
        empty="No services yet."
        columns={[
          { header: 'id', rowHeader: true, cell: (s) => s.id },
          { header: 'name', cell: (s) => s.name },
          { header: 'owner team', cell: (s) => s.owner_team ?? '—' },
          { header: 'tier', cell: (s) => s.tier },
          { header: 'RTO', cell: (s) => (s.rto_minutes === null ? '—' : `${s.rto_minutes} min`) },
          { header: 'SLO', cell: (s) => (s.slo_target === null ? '—' : formatPercent(s.slo_target, 3)) },
          {
            header: '',
            hidden: !admin,
            cell: (s) => (
              <div class="button-row">
                <button type="button" aria-expanded={editing === s.id} onClick={() => setEditing(editing === s.id ? null : s.id)} aria-label={`Edit service ${s.id}`}>
                  {editing === s.id ? 'Close' : 'Edit'}
                </button>
                <button type="button" class="danger" onClick={() => remove(s)} aria-label={`Delete service ${s.id}`}>
                  Delete
                </button>
              </div>
            ),
          },
        ]}
      />
      {admin && edited ? (
        <EditService
          key={`${edited.id}:${edited.version}`}
          service={edited}
          teams={teams.data ?? []}
          onSaved={() => {
            setEditing(null);
            services.reload();
          }}
        />
      ) : null}
      {admin ? <CreateService teams={teams.data ?? []} onCreated={() => services.reload()} /> : <p class="muted">Only admins change services.</p>}
    </div>
  );
}

/** A body from the form: blank optional fields are left out (create) or cleared (edit). */
function objectives(values: Values, clearBlank: boolean): Record<string, unknown> {
  const orNull = (key: string, convert: (t: string) => unknown) => (clearBlank && !values[key]?.trim() ? { [key]: null } : optional(key, values[key], convert));
  return {
    ...optional('name', values.name),
    ...orNull('owner_team', (t) => t),
    tier: numberOf(values.tier ?? ''),
    ...orNull('rto_minutes', numberOf),
    ...orNull('slo_target', numberOf),
    ...(clearBlank ? { description: values.description?.trim() ?? '' } : optional('description', values.description)),
  };
}

function CreateService({ teams, onCreated }: { teams: Team[]; onCreated: () => void }) {
  return (
    <SchemaForm
      id="new-service"
      title="New service"
      operation={{ method: 'post', path: '/api/v1/services' }}
      fields={[{ name: 'id', label: 'Id', id: 'service-id' }, ...objectiveFields(teams)]}
      initial={{ id: '', name: '', owner_team: '', tier: '3', rto_minutes: '', slo_target: '', description: '' }}
      toBody={(v) => ({ id: v.id, ...objectives(v, false) })}
      send={(body) => api.post<Service>('/api/v1/services', body)}
      onDone={onCreated}
      submitLabel="Create service"
    />
  );
}

function EditService({ service, teams, onSaved }: { service: Service; teams: Team[]; onSaved: () => void }) {
  return (
    <SchemaForm
      id="edit-service"
      title={`Edit ${service.id}`}
      operation={{ method: 'patch', path: '/api/v1/services/{id}' }}
      fields={objectiveFields(teams)}
      initial={{
        name: service.name,
        owner_team: service.owner_team ?? '',
        tier: String(service.tier),
        rto_minutes: service.rto_minutes === null ? '' : String(service.rto_minutes),
        slo_target: service.slo_target === null ? '' : String(service.slo_target),
        description: service.description,
      }}
      keepValues
      toBody={(v) => ({ version: service.version, ...objectives(v, true) })}
      send={(body) => api.patch<Service>(servicePath(service.id), body)}
      onDone={onSaved}
      submitLabel="Save service"
    />
  );
}
