import { api } from '../api.ts';
import { useAsync } from '../hooks.ts';

export interface Person {
  /** What the API stores (an assignee, a role holder, a user to page). */
  id: string;
  label: string;
  /** Shown after the name: teams, or how to reach them. */
  detail?: string;
  reachable?: boolean;
}

/** Where the picker's people come from; one place to switch when people accounts arrive. */
export interface PeopleSource {
  key: string;
  load(signal: AbortSignal): Promise<Person[]>;
}

/** Today's list of people: team members, with whether they have a contact method to be paged on. */
export const teamMembersSource: PeopleSource = {
  key: 'oncall-users',
  async load(signal) {
    const users = await api.get<{ user: string; teams: string[]; contact_methods: unknown[] }[]>('/api/v1/oncall/users', { signal });
    return users.map((u) => ({
      id: u.user,
      label: u.user,
      detail: `${u.teams.join(', ')}${u.contact_methods.length ? '' : ' · no contact method'}`,
      reachable: u.contact_methods.length > 0,
    }));
  },
};

let defaultSource: PeopleSource = teamMembersSource;
export function setPeopleSource(source: PeopleSource): void {
  defaultSource = source;
}

export function PersonPicker(props: {
  id: string;
  value: string;
  onChange: (id: string) => void;
  source?: PeopleSource;
  placeholder?: string;
  invalid?: boolean;
  describedBy?: string;
}) {
  const source = props.source ?? defaultSource;
  const people = useAsync((signal) => source.load(signal), [source.key]);
  const list = people.data ?? [];
  const options = props.value && !list.some((p) => p.id === props.value) ? [{ id: props.value, label: props.value }, ...list] : list;
  return (
    <select
      id={props.id}
      value={props.value}
      onChange={(e) => props.onChange(e.currentTarget.value)}
      aria-invalid={props.invalid || undefined}
      aria-describedby={props.describedBy}
    >
      <option value="">{people.state === 'loading' ? 'loading people…' : (props.placeholder ?? 'choose a person…')}</option>
      {options.map((p) => (
        <option key={p.id} value={p.id}>
          {p.label}
          {'detail' in p && p.detail ? ` (${p.detail})` : ''}
        </option>
      ))}
    </select>
  );
}
