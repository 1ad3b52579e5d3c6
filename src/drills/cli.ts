import type { Command } from 'commander';
import type { CliContext } from '../cli/main.ts';
import { printTable } from '../cli/output.ts';
import { AppError } from '../shared/errors.ts';
import { ApiClient } from '../cli/client.ts';
import { durationMs, resolveScenario, shippedScenarios, type Scenario } from './scenario.ts';
import type { DrillRunSummary, Scorecard } from './schemas.ts';
import { parseSpeed } from './simclock.ts';
import { runDrill, type DrillOptions } from './runner.ts';

interface RunFlags {
  speed: string;
  seed: string;
  prefix: string;
  responders: boolean;
  listen?: string;
  controlUrl?: string;
  keepOpen?: boolean;
  store: boolean;
}

/** The scenario the demo plays: short, no baseline needed, and it shows a plan acting. */
export const DEMO_SCENARIO = 'provider-outage-failover';

export function registerDrillCommands(program: Command, context: CliContext): void {
  const drill = program.command('drill').description('rehearse incident response: replay realistic LLM outages against a server and score the response');

  drill
    .command('list')
    .description('the scenarios shipped with Firebreak')
    .action(() => {
      const scenarios = shippedScenarios().map(describeScenario);
      context.output(scenarios, () => printTable(scenarios, ['id', 'duration', 'baseline', 'services', 'expectations', 'title']));
    });

  drill
    .command('run <scenario>')
    .description('run a shipped scenario (by id) or a scenario file (path); exits non-zero when an expectation fails')
    .option('--speed <factor>', 'simulated minutes per real minute, e.g. 60x', '60x')
    .option('--seed <n>', 'seed of the generated traffic (runs replay exactly)', '1')
    .option('--prefix <text>', 'put before the name of everything the drill creates', 'drill-')
    .option('--no-responders', 'leave acknowledging, approving and recovery to people; the drill only watches')
    .option('--listen <host:port>', 'where the control server (the stand-in LLM gateway plans call) listens', '127.0.0.1:0')
    .option('--control-url <url>', 'the control server’s URL as the Firebreak server reaches it (default: the address it listens on)')
    .option('--keep-open', 'leave the drill’s incidents open at the end')
    .option('--no-store', 'do not store the scorecard on the server')
    .action(async (name: string, flags: RunFlags) => {
      const scenario = resolveScenario(name);
      const scorecard = await runDrill(scenario, optionsFrom(context, flags, (line) => progress(context, line)));
      context.output(scorecard, () => printScorecard(scorecard));
      failUnlessPassed(scorecard);
    });

  drill
    .command('runs')
    .description('past drills stored on the server, newest first')
    .option('--scenario <id>')
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { scenario?: string; limit: string }) => {
      const query = new URLSearchParams({ limit: opts.limit, ...(opts.scenario ? { scenario: opts.scenario } : {}) });
      const runs = await context.client().request<DrillRunSummary[]>('GET', `/api/v1/drills/runs?${query}`);
      const rows = runs.map((r) => ({ ...r, held: `${r.expectations_held}/${r.expectations_total}`, result: r.passed ? 'passed' : 'FAILED' }));
      context.output(runs, () => printTable(rows, ['id', 'scenario', 'result', 'held', 'time_to_detect_minutes', 'time_to_recovery_minutes', 'finished_at']));
    });

  drill
    .command('show <id>')
    .description('the scorecard of a stored drill')
    .action(async (id: string) => {
      const run = await context.client().request<{ scorecard: Scorecard }>('GET', `/api/v1/drills/runs/${encodeURIComponent(id)}`);
      context.output(run, () => printScorecard(run.scorecard));
    });

  program
    .command('demo')
    .description('load example teams, services and a response plan into a running server and run one short drill, so the console has something real to show')
    .option('--speed <factor>', 'simulated minutes per real minute', '60x')
    .option('--seed <n>', 'seed of the generated traffic', '1')
    .action(async (flags: { speed: string; seed: string }) => {
      const { server, token } = context.globals();
      if (!token) throw new AppError('unauthorized', 'give the admin token printed at first start: firebreak demo --token <token> (or export FIREBREAK_TOKEN)');
      const client = new ApiClient({ server, token });
      const prefix = 'demo-';
      // Every scenario's teams and services, so the catalogue looks like a real team's.
      for (const scenario of shippedScenarios()) await loadCatalogue(client, scenario, prefix);
      const scenario = resolveScenario(DEMO_SCENARIO);
      const minutes = durationMs(scenario.duration) / 60_000;
      progress(context, `running the ${scenario.id} drill: ${minutes} simulated minutes at ${flags.speed}`);
      const scorecard = await runDrill(
        scenario,
        optionsFrom(context, { speed: flags.speed, seed: flags.seed, prefix, responders: true, store: true, keepOpen: true }, (line) => progress(context, line)),
      );
      context.output(scorecard, () => {
        printScorecard(scorecard);
        process.stdout.write(
          `\nOpen ${server.replace(/\/$/, '')}/ and sign in with your token: the incident ${scorecard.incidents[0]?.id ?? ''} shows the alert, ` +
            `the plan's steps and the recovery. Run more drills with: firebreak drill list\n`,
        );
      });
    });
}

function optionsFrom(context: CliContext, flags: RunFlags, say: (line: string) => void): DrillOptions {
  const { server, token } = context.globals();
  if (!token) throw new AppError('unauthorized', 'a drill needs an admin token (it creates teams, services, integrations and plans): --token or FIREBREAK_TOKEN');
  let speed: number;
  try {
    speed = parseSpeed(flags.speed);
  } catch (error) {
    throw new AppError('validation_failed', `--speed: ${(error as Error).message}`, { field: 'speed' });
  }
  const seed = Number(flags.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new AppError('validation_failed', `--seed: ${flags.seed} is not a non-negative integer`, { field: 'seed' });
  if (!/^[a-z0-9][a-z0-9_-]{0,19}$/.test(flags.prefix)) throw new AppError('validation_failed', `--prefix: ${flags.prefix} must be a short lower-case identifier such as drill-`, { field: 'prefix' });
  return {
    server,
    token,
    speed,
    seed,
    prefix: flags.prefix,
    responders: flags.responders,
    controlListen: flags.listen,
    controlUrl: flags.controlUrl,
    keepOpen: flags.keepOpen ?? false,
    store: flags.store,
    progress: say,
  };
}

function progress(context: CliContext, line: string): void {
  // Progress goes to stderr so `--json` output stays parseable.
  if (!context.globals().json) process.stderr.write(`${line}\n`);
}

async function loadCatalogue(client: ApiClient, scenario: Scenario, prefix: string): Promise<void> {
  for (const team of scenario.teams ?? []) {
    await client.request('GET', `/api/v1/teams/${prefix}${team.id}`).catch(async () => {
      await client.request('POST', '/api/v1/teams', { id: `${prefix}${team.id}`, name: team.name, members: (team.members ?? []).map((user) => ({ user })) });
    });
  }
  const ordered = [...scenario.services].sort((a, b) => (a.depends_on ?? []).length - (b.depends_on ?? []).length);
  for (const service of ordered) {
    await client.request('GET', `/api/v1/services/${prefix}${service.id}`).catch(async () => {
      await client.request('POST', '/api/v1/services', {
        id: `${prefix}${service.id}`,
        name: `${service.id} (demo)`,
        description: service.description ?? `Example service from the ${scenario.id} drill.`,
        owner_team: service.team ? `${prefix}${service.team}` : null,
        tier: service.tier ?? 3,
        rto_minutes: service.rto_minutes ?? null,
        depends_on: (service.depends_on ?? []).map((d) => `${prefix}${d}`),
      });
    });
  }
}

function describeScenario(s: Scenario) {
  return {
    id: s.id,
    title: s.title,
    duration: s.duration,
    baseline: s.baseline ?? '-',
    services: s.services.map((x) => x.id),
    expectations: s.expectations.length,
  };
}

function failUnlessPassed(scorecard: Scorecard): void {
  const failed = scorecard.expectations.filter((e) => !e.held);
  if (failed.length > 0) {
    throw new AppError('unprocessable', `drill ${scorecard.scenario}: ${failed.length} of ${scorecard.expectations.length} expectations failed: ${failed.map((f) => f.expectation).join('; ')}`);
  }
}

const minutes = (value: number | null) => (value === null ? 'never' : `${value >= 0 ? '+' : ''}${value.toFixed(1)} min`);

/** The scorecard for people: headline times, what the plan did, correlation, then each expectation. */
export function printScorecard(card: Scorecard): void {
  const held = card.expectations.filter((e) => e.held).length;
  const out: string[] = [];
  out.push(`Drill ${card.scenario}: ${card.title}`);
  out.push(`${card.passed ? 'PASSED' : 'FAILED'}: ${held} of ${card.expectations.length} expectations held`);
  out.push(
    `seed ${card.seed}, speed ${card.speed}x, objects prefixed ${card.prefix}, ${card.duration_minutes} simulated minutes` +
      `${card.baseline_minutes > 0 ? ` after ${Math.round(card.baseline_minutes / 60)} h of baseline` : ''}; first fault at minute ${card.fault_minute}; times below are from it` +
      `${card.responders ? '' : '; no simulated responders'}`,
  );
  out.push('');
  const first = card.alerts.find((a) => a.minute >= card.fault_minute - 0.5);
  const incident = card.incidents[0];
  out.push(`time to detect       ${minutes(card.time_to_detect_minutes)}${first ? `  ${first.source}: ${first.summary}` : ''}`);
  if (card.alerts_before_fault > 0) out.push(`false alarms         ${card.alerts_before_fault} alert(s) before the fault`);
  out.push(`time to incident     ${minutes(card.time_to_incident_minutes)}${incident ? `  ${incident.id} (${incident.severity}, now ${incident.status})` : ''}`);
  out.push(`time to acknowledge  ${minutes(card.time_to_acknowledge_minutes)}`);
  out.push(`time to recovery     ${minutes(card.time_to_recovery_minutes)}${card.recoveries[0] ? `  (verified by checks; ${card.recoveries[0].evaluations} evaluations)` : ''}`);
  if (card.plans.length === 0) out.push('response plan        none ran');
  for (const plan of card.plans) {
    const finished = plan.finished_minute === null ? '' : ` at ${minutes(plan.finished_minute - card.fault_minute)}`;
    const waiting = plan.waiting_for.length ? `; waiting for ${plan.waiting_for.join(', ')}` : '';
    out.push(`response plan        ${plan.plan_id} ${plan.status}${finished}: ${plan.steps.map((s) => `${s.id} ${s.status}`).join(', ')}${waiting}`);
  }
  for (const f of card.failovers) out.push(`gateway              ${f.service} failed over to ${f.to_provider} at ${minutes(f.minute - card.fault_minute)}`);
  for (const c of card.correlation) {
    const what = !c.incident_id || !c.other_incident_id ? 'not both incidents opened' : c.suggested ? `suggested (score ${c.score?.toFixed(2)}: ${c.evidence.join(', ')})` : 'not suggested';
    out.push(`correlation          ${c.service} ↔ ${c.with}: ${what}${c.linked.length ? `; linked ${c.linked.join(', ')}` : ''}`);
  }
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
  printTable(
    card.expectations.map((e) => ({ held: e.held ? 'yes' : 'NO', expectation: e.expectation, observed: e.observed })),
    ['held', 'expectation', 'observed'],
  );
}
