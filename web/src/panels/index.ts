/**
 * The one place the console's screens and panels are registered. A capability adds its UI as its own
 * file (a screen, an incident-page panel, a settings tab or a dashboard panel) and one line here.
 * See README, "Web console", for the extension points.
 */
import { registerDashboardPanel, registerIncidentPanel, registerScreen, registerSettingsTab } from '../registry.ts';
import { IncidentList } from '../screens/IncidentList.tsx';
import { IncidentPage } from '../screens/IncidentPage.tsx';
import { Dashboards } from '../screens/Dashboards.tsx';
import { Settings } from '../screens/Settings.tsx';
import { IncidentMetricsPanel } from './dashboard-incident-metrics.tsx';
import { LlmStatsPanel } from './dashboard-llm-stats.tsx';
import { ServicesSettings } from './settings-services.tsx';
import { TeamsSettings } from './settings-teams.tsx';
import { TokensSettings } from './settings-tokens.tsx';
import { IntegrationsSettings } from './settings-integrations.tsx';
import { PlansSettings } from './settings-plans.tsx';
import { ChannelsSettings, SchedulesSettings } from './settings-oncall.tsx';
import { RecoveryPanel } from './incident-recovery.tsx';
import { AlertsPanel, RelatedPanel } from './incident-alerts.tsx';
import { ExecutionsPanel } from './incident-executions.tsx';
import { PostmortemPanel } from './incident-postmortem.tsx';
import { ActionItems } from '../screens/ActionItems.tsx';
import { AnalysesPanel } from './incident-analyses.tsx';
import { AnalysisEditor } from '../screens/AnalysisEditor.tsx';
import { FaultTrees } from '../screens/FaultTrees.tsx';
import { DrillsPanel } from './dashboard-drills.tsx';
import { RespondersPanel } from './incident-responders.tsx';
import { StatusUpdatesPanel } from './incident-status-updates.tsx';
import { FaultTreesPanel } from './incident-fault-trees.tsx';
import { IncidentLlmPanel } from './incident-llm.tsx';
import { SloDashboardPanel } from './dashboard-slos.tsx';
import { RotaSettings } from './settings-rota.tsx';
import { ContactMethodsSettings, EscalationPoliciesSettings, RoutingRulesSettings, SecretsSettings, StatusPagesSettings } from './settings-responders.tsx';
import { SuspectsPanel } from './incident-suspects.tsx';
import { ChangesScreen } from './changes-list.tsx';

// Screens (top-level pages). `nav` puts one in the header.
registerScreen({ path: '/incidents', title: 'Incidents', component: IncidentList, nav: { label: 'Incidents', order: 10 } });
registerScreen({ path: '/incidents/:id', title: 'Incident', component: IncidentPage });
registerScreen({ path: '/dashboards', title: 'Dashboards', component: Dashboards, nav: { label: 'Dashboards', order: 20 } });
registerScreen({ path: '/action-items', title: 'Action items', component: ActionItems, nav: { label: 'Action items', order: 40 } });
registerScreen({ path: '/changes', title: 'Changes', component: ChangesScreen, nav: { label: 'Changes', order: 30 } });
registerScreen({ path: '/fault-trees', title: 'Fault trees', component: FaultTrees, nav: { label: 'Fault trees', order: 50 } });
registerScreen({ path: '/analyses/:id', title: 'Root cause analysis', component: AnalysisEditor });
registerScreen({ path: '/settings', title: 'Settings', component: Settings, nav: { label: 'Settings', order: 90 } });
registerScreen({ path: '/settings/:tab', title: 'Settings', component: Settings });

// Dashboard panels.
registerDashboardPanel({ id: 'incident-metrics', title: 'Incidents, MTTA and MTTR', order: 10, component: IncidentMetricsPanel });
registerDashboardPanel({ id: 'llm-stats', title: 'LLM service stats', order: 20, component: LlmStatsPanel });
registerDashboardPanel({ id: 'slos', title: 'Service level objectives', order: 25, component: SloDashboardPanel });
registerDashboardPanel({ id: 'drills', title: 'Incident drills', order: 30, component: DrillsPanel });

// Settings tabs.
registerSettingsTab({ id: 'services', label: 'Services', order: 10, component: ServicesSettings });
registerSettingsTab({ id: 'teams', label: 'Teams', order: 20, component: TeamsSettings });
registerSettingsTab({ id: 'integrations', label: 'Integrations', order: 30, component: IntegrationsSettings });
registerSettingsTab({ id: 'plans', label: 'Plans', order: 40, component: PlansSettings });
registerSettingsTab({ id: 'channels', label: 'Channels', order: 50, component: ChannelsSettings });
registerSettingsTab({ id: 'schedules', label: 'Schedules', order: 60, component: SchedulesSettings });
registerSettingsTab({ id: 'rota', label: 'Rota and overrides', order: 62, component: RotaSettings });
registerSettingsTab({ id: 'escalation', label: 'Escalation policies', order: 65, component: EscalationPoliciesSettings });
registerSettingsTab({ id: 'contact-methods', label: 'Contact methods', order: 66, component: ContactMethodsSettings });
registerSettingsTab({ id: 'routing', label: 'Routing rules', order: 35, component: RoutingRulesSettings });
registerSettingsTab({ id: 'status-pages', label: 'Status pages', order: 70, component: StatusPagesSettings });
registerSettingsTab({ id: 'secrets', label: 'Secrets', order: 80, component: SecretsSettings, adminOnly: true });
registerSettingsTab({ id: 'tokens', label: 'Tokens', order: 90, component: TokensSettings });

// Incident-page panels, one per capability. A panel renders nothing while its capability answers 404.
registerIncidentPanel({ id: 'responders', title: 'On call and escalation', order: 5, component: RespondersPanel });
registerIncidentPanel({ id: 'status-updates', title: 'Status page updates', order: 8, component: StatusUpdatesPanel });
registerIncidentPanel({ id: 'alerts', title: 'Alerts', order: 10, component: AlertsPanel });
registerIncidentPanel({ id: 'suspects', title: 'What changed?', order: 15, component: SuspectsPanel });
registerIncidentPanel({ id: 'related', title: 'Related incidents', order: 20, component: RelatedPanel });
registerIncidentPanel({ id: 'plan-executions', title: 'Response plan executions', order: 30, component: ExecutionsPanel });
registerIncidentPanel({ id: 'recovery', title: 'Recovery and RTO clock', order: 40, component: RecoveryPanel });
registerIncidentPanel({ id: 'analyses', title: 'Root cause analyses', order: 45, component: AnalysesPanel });
registerIncidentPanel({ id: 'fault-trees', title: 'Fault trees', order: 46, component: FaultTreesPanel });
registerIncidentPanel({ id: 'llm', title: 'LLM health', order: 48, component: IncidentLlmPanel, placement: 'wide' });
registerIncidentPanel({ id: 'postmortem', title: 'Postmortem', order: 50, component: PostmortemPanel, placement: 'wide' });
