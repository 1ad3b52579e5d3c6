import type { CommandGroup } from './main.ts';

/**
 * Command groups contributed by capabilities, in the order they appear in help. Each is loaded only when
 * one of its commands runs (a capability's CLI pulls in its schemas and services), so `firebreak --help`
 * and `firebreak incident list` start without compiling or loading the rest. The descriptions here are
 * what top-level help shows; a test checks they match the ones each group registers.
 */
export const CLI_COMMANDS: readonly CommandGroup[] = [
  {
    commands: { user: 'manage the accounts people sign in with: directly on FIREBREAK_DATABASE_URL, or through --server with --remote' },
    load: async () => (await import('../auth/cli.ts')).registerUserCommands,
  },
  {
    commands: {
      recovery: 'recovery plans of incidents',
      postmortem: 'postmortems of incidents',
      'action-items': 'action items across incidents',
    },
    load: async () => (await import('../recovery/cli.ts')).registerRecoveryCommands,
  },
  {
    commands: { fta: 'fault tree analysis of Open-PSA MEF XML or Firebreak JSON models (runs locally)' },
    load: async () => (await import('../rca/fta-cli.ts')).registerFaultTreeCommands,
  },
  {
    commands: {
      integration: 'alert integrations and their routing keys (admin)',
      alert: 'alerts received from monitoring and from Firebreak’s detectors',
      'routing-rules': 'the routing rule set (YAML)',
    },
    // Also adds `incident related` and `incident link`.
    extends: ['incident'],
    load: async () => (await import('../ingest/cli.ts')).registerIngestCommands,
  },
  {
    commands: { slo: 'SLOs over LLM traffic: error budget left and burn rates', llm: 'LLM telemetry: statistics and detectors' },
    load: async () => (await import('../llm/cli.ts')).registerLlmCommands,
  },
  {
    commands: { plan: 'response plans: versioned runbooks executed durably' },
    load: async () => (await import('../plans/cli.ts')).registerPlanCommands,
  },
  {
    commands: { oncall: 'who is on call, per team and schedule', channel: 'notification channels (webhook, Slack, Teams, e-mail)' },
    load: async () => (await import('../oncall/cli.ts')).onCallCommands,
  },
  {
    commands: {
      drill: 'rehearse incident response: replay realistic LLM outages against a server and score the response',
      demo: 'load example teams, services and a response plan into a running server and run one short drill, so the console has something real to show',
    },
    load: async () => (await import('../drills/cli.ts')).registerDrillCommands,
  },
  {
    commands: { change: 'change events: deploys, model and prompt rollouts, and the suspects of an incident' },
    load: async () => (await import('../changes/cli.ts')).registerChangeCommands,
  },
];
