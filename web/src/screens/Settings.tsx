import { getSettingsTabs, type ScreenProps } from '../registry.ts';
import { Link } from '../router.tsx';
import { useSession } from '../session.ts';

export function Settings({ params }: ScreenProps) {
  const { me } = useSession();
  const tabs = getSettingsTabs().filter((t) => !t.adminOnly || me.role === 'admin');
  const active = tabs.find((t) => t.id === params.tab) ?? tabs[0];
  return (
    <div class="settings">
      <h1>Settings</h1>
      <nav aria-label="Settings sections" class="tabs">
        <ul>
          {tabs.map((tab) => (
            <li key={tab.id}>
              <Link href={`/settings/${tab.id}`} aria-current={tab === active ? 'page' : undefined}>
                {tab.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {active ? (
        <section aria-label={active.label} class="settings-body">
          <active.component />
        </section>
      ) : null}
    </div>
  );
}
