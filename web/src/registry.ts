import type { ComponentType } from 'preact';
import type { Incident } from './types.ts';

/**
 * Extension points. Each capability adds its screens and panels as separate files and registers them
 * in `panels/index.ts`; nothing else in the console needs to change.
 */

export interface ScreenProps {
  params: Record<string, string>;
  search: URLSearchParams;
}

export interface ScreenDefinition {
  /** A path pattern such as `/incidents/:id`. */
  path: string;
  title: string;
  component: ComponentType<ScreenProps>;
  /** Shown in the top navigation when set, ordered by `order`. */
  nav?: { label: string; order: number };
}

export interface IncidentPanelProps {
  incident: Incident;
  /**
   * The kinds of entry on the incident's timeline (null until it has loaded). A panel whose record may not
   * exist asks the timeline first (`recovery_planned`, `postmortem_created`, …) instead of probing with a
   * GET that answers 404 and logs an error in the browser console.
   */
  timelineKinds: ReadonlySet<string> | null;
}

/** A section of the incident page. A panel renders nothing (returns null) when its capability is absent. */
export interface IncidentPanelDefinition {
  id: string;
  title: string;
  order: number;
  component: ComponentType<IncidentPanelProps>;
  /** `side` (default): the sidebar beside the timeline; `wide`: full width below it (the postmortem editor). */
  placement?: 'side' | 'wide';
}

export interface SettingsTabDefinition {
  id: string;
  label: string;
  order: number;
  component: ComponentType;
  /** Shown only to admins when the API it reads is admin-only (it would answer 403). */
  adminOnly?: boolean;
}

export interface DashboardRange {
  from: Date;
  to: Date;
  bucket: 'day' | 'week';
}

export interface DashboardPanelDefinition {
  id: string;
  title: string;
  order: number;
  component: ComponentType<{ range: DashboardRange }>;
}

const screens: ScreenDefinition[] = [];
const incidentPanels: IncidentPanelDefinition[] = [];
const settingsTabs: SettingsTabDefinition[] = [];
const dashboardPanels: DashboardPanelDefinition[] = [];

const byOrder = <T extends { order: number }>(list: T[]) => [...list].sort((a, b) => a.order - b.order);

export const registerScreen = (screen: ScreenDefinition) => void screens.push(screen);
export const registerIncidentPanel = (panel: IncidentPanelDefinition) => void incidentPanels.push(panel);
export const registerSettingsTab = (tab: SettingsTabDefinition) => void settingsTabs.push(tab);
export const registerDashboardPanel = (panel: DashboardPanelDefinition) => void dashboardPanels.push(panel);

export const getScreens = (): readonly ScreenDefinition[] => screens;
export const getNavScreens = () => screens.filter((s) => s.nav).sort((a, b) => a.nav!.order - b.nav!.order);
export const getIncidentPanels = () => byOrder(incidentPanels);
export const getSettingsTabs = () => byOrder(settingsTabs);
export const getDashboardPanels = () => byOrder(dashboardPanels);
