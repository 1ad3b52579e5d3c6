import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { CLI_COMMANDS } from '../../src/cli/commands.ts';
import { buildCli, loadCommandGroups, type CliContext } from '../../src/cli/main.ts';

describe('CLI command groups', () => {
  it('lists each group in help with the names and descriptions its module registers', async () => {
    const context = {} as CliContext;
    for (const group of CLI_COMMANDS) {
      const program = new Command();
      (await group.load())(program, context);
      const registered = Object.fromEntries(program.commands.filter((c) => !(group.extends ?? []).includes(c.name())).map((c) => [c.name(), c.description()]));
      expect(registered).toEqual(group.commands);
    }
  });

  it('loads only the group of the command that runs; help loads none', async () => {
    expect((await loadCommandGroups(['--help'], CLI_COMMANDS)).registrars).toHaveLength(0);
    expect((await loadCommandGroups(['--server', 'http://x', 'incident', 'list'], CLI_COMMANDS)).registrars).toHaveLength(1);
    const plan = await loadCommandGroups(['--json', 'plan', 'list'], CLI_COMMANDS);
    expect(plan.registrars).toHaveLength(1);
    expect(Object.keys(plan.stubs)).not.toContain('plan');
    expect((await loadCommandGroups(['help', 'fta'], CLI_COMMANDS)).registrars).toHaveLength(1);
    const names = buildCli([], (await loadCommandGroups([], CLI_COMMANDS)).stubs).commands.map((c) => c.name());
    expect(names).toEqual(expect.arrayContaining(['serve', 'token', 'incident', 'plan', 'fta', 'drill', 'demo', 'oncall']));
  });
});
