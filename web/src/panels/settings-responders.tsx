import { useState } from 'preact/hooks';
import type { Static } from 'typebox';
import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';
import { ProblemDisplay } from '../components/forms.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { SchemaForm, listOf, optional, numberOf, type Values } from '../components/SchemaForm.tsx';
import { formatDateTimeZone, humanise } from '../format.ts';
import type { Channel, Team } from '../types.ts';
import type { PolicySchema, OnCallUserSchema } from '../../../src/oncall/schemas.ts';
import type { RoutingRuleSet } from '../../../src/ingest/schemas.ts';
import type { StatusPage } from '../../../src/oncall/statuspage/schemas.ts';

type Policy = Static<typeof PolicySchema>;
type OnCallUser = Static<typeof OnCallUserSchema>;

/** "5: schedule primary, user bob" → { timeout_minutes: 5, targets: [{ schedule: 'primary' }, { user: 'bob' }] } */
function parseLevels(text: string | undefined) {
  return (text ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [minutes, rest = ''] = line.split(':');
      return {
        timeout_minutes: Number(minutes),
        targets: listOf(rest).map((t) => {
          const [kind, ...name] = t.split(/\s+/);
          return kind === 'schedule' ? { schedule: name.join(' ') } : { user: name.join(' ') || kind! };
        }),
      };
    });
}

/** Escalation policies: their levels and targets, and a form for a new one (levels written one per line). */
export function EscalationPoliciesSettings() {
  const policies = useAsync((signal) => api.get<Policy[]>('/api/v1/escalation-policies', { signal }), []);
  const teams = useAsync((signal) => api.get<Team[]>('/api/v1/teams', { signal }), []);
  return (
    <div>
      <h2>Escalation policies</h2>
      <ProblemDisplay of={policies} />
      <DataTable
        testId="policies-table"
        rows={policies.data}
        rowKey={(p) => p.id}
        columns={[
          {
            header: 'policy',
            rowHeader: true,
            cell: (p) => (
              <>
                {p.name} <small class="muted">({p.id})</small>
              </>
            ),
          },
          { header: 'team', cell: (p) => p.team },
          {
            header: 'levels',
            cell: (p) => (
              <ol class="levels">
                {p.levels.map((level, i) => (
                  <li key={i}>
                    {level.targets.map((t) => ('schedule' in t ? `on call in ${t.schedule}` : t.user)).join(', ')} — escalate after {level.timeout_minutes} min
                  </li>
                ))}
              </ol>
            ),
          },
          { header: 'repeat', cell: (p) => p.repeat },
        ]}
      />
      <SchemaForm
        id="policy"
        title="New escalation policy"
        operation={{ method: 'post', path: '/api/v1/escalation-policies' }}
        fields={[
          { name: 'id', label: 'Id' },
          { name: 'team', label: 'Team', kind: 'select', placeholder: 'choose…', choices: (teams.data ?? []).map((t) => ({ value: t.id, label: t.name })) },
          { name: 'name', label: 'Name (optional)' },
          { name: 'repeat', label: 'Repeat the levels', inputMode: 'numeric' },
          { name: 'levels', label: 'Levels, one per line', kind: 'textarea', hint: 'e.g. "5: schedule primary" then "10: user bob, user carol"' },
        ]}
        initial={{ id: '', team: '', name: '', repeat: '0', levels: '' }}
        parse={(v: Values) =>
          parseLevels(v.levels).some((l) => !Number.isInteger(l.timeout_minutes)) ? { levels: 'Each line: minutes, a colon, then targets such as "schedule primary, user bob".' } : {}
        }
        toBody={(v) => ({ id: v.id, team: v.team, ...optional('name', v.name), repeat: numberOf(v.repeat ?? ''), levels: parseLevels(v.levels) })}
        send={(body) => api.post<Policy>('/api/v1/escalation-policies', body)}
        onDone={() => policies.reload()}
        submitLabel="Create policy"
      />
    </div>
  );
}

interface RoutingDecision {
  action: string;
  service: string;
  severity: string;
  rule: string;
  modified_by: string[];
  reason: string;
  attach_to: string | null;
  suppressed_until: string | null;
  group_window_minutes: number;
}

/** "team=llm, region = eu" → { team: 'llm', region: 'eu' } */
function labelsOf(text: string | undefined): Record<string, string> {
  return Object.fromEntries(
    listOf(text)
      .map((pair) => pair.split('=').map((s) => s.trim()))
      .filter((pair) => pair[0])
      .map(([k, v]) => [k!, v ?? '']),
  );
}

/** Routing rules in force (their YAML and version) and the rule tester: what the rules decide for an alert. */
export function RoutingRulesSettings() {
  const rules = useAsync((signal) => api.get<RoutingRuleSet>('/api/v1/routing-rules', { signal }), []);
  const [decision, setDecision] = useState<RoutingDecision | null>(null);
  return (
    <div>
      <h2>Routing rules</h2>
      <ProblemDisplay of={rules} />
      {rules.data ? (
        <>
          <p class="muted">
            Version {rules.data.version} ({rules.data.source}){rules.data.created_at ? `, by ${rules.data.created_by} ${formatDateTimeZone(rules.data.created_at)}` : ''}.
          </p>
          <pre class="yaml" data-testid="routing-yaml">
            {rules.data.yaml}
          </pre>
        </>
      ) : null}
      <SchemaForm
        id="test"
        title="Rule tester"
        operation={{ method: 'post', path: '/api/v1/routing-rules/test' }}
        fields={[
          { name: 'service', label: 'Service' },
          { name: 'severity', label: 'Alert severity', kind: 'select' },
          { name: 'labels', label: 'Labels (key=value, comma-separated)' },
        ]}
        initial={{ service: '', severity: 'critical', labels: '' }}
        keepValues
        toBody={(v) => ({ service: v.service, severity: v.severity, labels: labelsOf(v.labels) })}
        send={(body) => {
          setDecision(null);
          return api.post<RoutingDecision>('/api/v1/routing-rules/test', body);
        }}
        onDone={setDecision}
        submitLabel="Test"
        after={decision ? <RoutingDecisionFacts decision={decision} /> : null}
      />
    </div>
  );
}

function RoutingDecisionFacts({ decision }: { decision: RoutingDecision }) {
  return (
    <dl class="facts" data-testid="rule-decision">
      <div>
        <dt>Decision</dt>
        <dd>{humanise(decision.action)}</dd>
      </div>
      <div>
        <dt>Rule</dt>
        <dd>{decision.rule}</dd>
      </div>
      <div>
        <dt>Service and severity</dt>
        <dd>
          {decision.service}, {decision.severity}
        </dd>
      </div>
      <div>
        <dt>Why</dt>
        <dd>{decision.reason}</dd>
      </div>
      {decision.modified_by.length ? (
        <div>
          <dt>Changed by</dt>
          <dd>{decision.modified_by.join(', ')}</dd>
        </div>
      ) : null}
      <div>
        <dt>Grouping window</dt>
        <dd>{decision.group_window_minutes} min</dd>
      </div>
    </dl>
  );
}

/** Stored secrets, by name only: the values never leave the server. */
export function SecretsSettings() {
  const secrets = useAsync((signal) => api.get<{ name: string; created_at: string; updated_at: string }[]>('/api/v1/secrets', { signal }), []);
  return (
    <div>
      <h2>Secrets</h2>
      <p class="muted">Names only: values are write-only (set them with the API or CLI) and are never shown.</p>
      <ProblemDisplay of={secrets} />
      <DataTable
        testId="secrets-table"
        rows={secrets.data}
        rowKey={(s) => s.name}
        empty="No secrets stored."
        columns={[
          { header: 'name', rowHeader: true, cell: (s) => s.name },
          { header: 'created', cell: (s) => formatDateTimeZone(s.created_at) },
          { header: 'updated', cell: (s) => formatDateTimeZone(s.updated_at) },
        ]}
      />
    </div>
  );
}

/** Public status pages: which services each shows, its public address, and a form for a new one. */
export function StatusPagesSettings() {
  const pages = useAsync((signal) => api.get<StatusPage[]>('/api/v1/status-pages', { signal }), []);
  return (
    <div>
      <h2>Status pages</h2>
      <ProblemDisplay of={pages} />
      <DataTable
        testId="status-pages-table"
        rows={pages.data}
        rowKey={(p) => p.id}
        columns={[
          {
            header: 'page',
            rowHeader: true,
            cell: (p) => (
              <>
                {p.title} <small class="muted">({p.id})</small>
              </>
            ),
          },
          { header: 'services', cell: (p) => p.services.join(', ') },
          {
            header: 'public address',
            cell: (p) => (
              <a href={p.url} target="_blank" rel="noopener">
                {new URL(p.url, location.origin).href}
              </a>
            ),
          },
        ]}
      />
      <SchemaForm
        id="page"
        title="New status page"
        operation={{ method: 'post', path: '/api/v1/status-pages' }}
        fields={[
          { name: 'id', label: 'Id (the public address)' },
          { name: 'title', label: 'Title' },
          { name: 'services', label: 'Services (comma-separated ids)' },
        ]}
        initial={{ id: '', title: '', services: '' }}
        toBody={(v) => ({ id: v.id, title: v.title?.trim(), services: listOf(v.services) })}
        send={(body) => api.post<StatusPage>('/api/v1/status-pages', body)}
        onDone={() => pages.reload()}
        submitLabel="Create status page"
      />
    </div>
  );
}

/** People and how they are reached: each person's contact methods, and adding one. */
export function ContactMethodsSettings() {
  const users = useAsync((signal) => api.get<OnCallUser[]>('/api/v1/oncall/users', { signal }), []);
  const channels = useAsync((signal) => api.get<Channel[]>('/api/v1/notification-channels', { signal }), []);
  return (
    <div>
      <h2>Contact methods</h2>
      <ProblemDisplay of={users} />
      <DataTable
        testId="contact-methods-table"
        rows={users.data}
        rowKey={(u) => u.user}
        columns={[
          { header: 'person', rowHeader: true, cell: (u) => u.user },
          { header: 'teams', cell: (u) => u.teams.join(', ') },
          {
            header: 'contact methods',
            cell: (u) =>
              u.contact_methods.length ? (
                u.contact_methods.map((m) => (
                  <div key={m.id}>
                    {m.channel_id}
                    {m.address ? ` → ${m.address}` : ''}
                  </div>
                ))
              ) : (
                <strong class="unacked">none: cannot be paged</strong>
              ),
          },
        ]}
      />
      <SchemaForm
        id="contact"
        title="Add a contact method"
        operation={{ method: 'post', path: '/api/v1/oncall/users/{user}/contact-methods' }}
        fields={[
          { name: 'user', label: 'Person', kind: 'person' },
          { name: 'channel_id', label: 'Channel', kind: 'select', placeholder: 'choose…', choices: (channels.data ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.kind})` })), id: 'contact-channel' },
          { name: 'address', label: 'E-mail address (e-mail channels)', kind: 'email' },
        ]}
        initial={{ user: '', channel_id: '', address: '' }}
        // The person is part of the address, not of the body the schema checks.
        parse={(v) => (v.user ? {} : { user: 'Choose a person.' })}
        toBody={(v) => ({ channel_id: v.channel_id, ...optional('address', v.address) })}
        send={(body, v) => api.post(`/api/v1/oncall/users/${encodeURIComponent(v.user ?? '')}/contact-methods`, body)}
        onDone={() => users.reload()}
        submitLabel="Add contact method"
      />
    </div>
  );
}
