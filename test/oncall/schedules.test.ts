import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../support/databases.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../support/server.ts';
import { runCli } from '../../src/cli/main.ts';
import { CLI_COMMANDS } from '../../src/cli/commands.ts';

/** Runs the real CLI (in this process, over HTTP to the test server), capturing what it prints. */
async function cli(server: TestServer, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const captured = { stdout: '', stderr: '' };
  const original = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => ((captured.stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((captured.stderr += String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await runCli(['--server', server.url, '--token', ADMIN_TOKEN, ...args], CLI_COMMANDS);
    return { code, ...captured };
  } finally {
    process.stdout.write = original.stdout;
    process.stderr.write = original.stderr;
  }
}

type OnCallBody = { at: string; teams: { team: string; schedules: { schedule: string; on_call: { user: string; source: string; via: string; from: string; until: string } | null }[] }[] };

describeEachDatabase('on-call schedules', (kind) => {
  let server: TestServer;
  const onCallAt = async (at: string, team = 'core') => {
    const response = await server.api<OnCallBody>('GET', `/api/v1/oncall?at=${encodeURIComponent(at)}&team=${team}`);
    expect(response.status).toBe(200);
    return response.body.teams[0]?.schedules[0]?.on_call ?? null;
  };

  beforeAll(async () => {
    server = await startTestServer(kind);
    const team = await server.api('POST', '/api/v1/teams', {
      id: 'core',
      name: 'Core',
      members: [{ user: 'alice' }, { user: 'bob' }, { user: 'carol' }],
    });
    expect(team.status).toBe(201);
  });
  afterAll(async () => server?.close());

  it('hands a daily 09:00 Europe/Berlin rotation over at 09:00 local on both sides of the DST change', async () => {
    const created = await server.api('POST', '/api/v1/schedules', {
      id: 'core-daily',
      team: 'core',
      time_zone: 'Europe/Berlin',
      layers: [{ name: 'primary', rotation: 'daily', handoff_time: '09:00', start: '2026-03-27', users: ['alice', 'bob'] }],
    });
    expect(created.status).toBe(201);
    // Before the change (CET, UTC+1): 09:00 local is 08:00Z. 27th alice, 28th bob, 29th alice, 30th bob.
    expect((await onCallAt('2026-03-28T07:59:00Z'))?.user).toBe('alice');
    expect((await onCallAt('2026-03-28T08:00:00Z'))?.user).toBe('bob');
    // 29 March 2026 is the change to CEST (UTC+2): 09:00 local is now 07:00Z.
    expect((await onCallAt('2026-03-29T06:59:00Z'))?.user).toBe('bob');
    const sunday = await onCallAt('2026-03-29T07:00:00Z');
    expect(sunday).toMatchObject({ user: 'alice', source: 'layer', via: 'primary', from: '2026-03-29T07:00:00.000Z', until: '2026-03-30T07:00:00.000Z' });
    expect((await onCallAt('2026-03-30T06:59:59Z'))?.user).toBe('alice');
    expect((await onCallAt('2026-03-30T07:00:00Z'))?.user).toBe('bob');
    // Before the first handoff nobody is on call.
    expect(await onCallAt('2026-03-27T07:59:00Z')).toBeNull();
    // And back in October (CEST → CET on 25 October 2026), 09:00 local is 08:00Z again.
    const october = await onCallAt('2026-10-26T08:00:00Z');
    expect(october?.from).toBe('2026-10-26T08:00:00.000Z');
    expect((await onCallAt('2026-10-26T07:59:00Z'))?.from).toBe('2026-10-25T08:00:00.000Z');
    await server.api('DELETE', '/api/v1/schedules/core-daily');
  });

  it('rotates weekly on the handoff day and lets an override take a period, higher layers win where they cover', async () => {
    const created = await server.api('POST', '/api/v1/schedules', {
      id: 'core-weekly',
      team: 'core',
      time_zone: 'America/New_York',
      layers: [
        { name: 'weekly', rotation: 'weekly', handoff_day: 'wednesday', handoff_time: '10:30', start: '2026-03-02', users: ['alice', 'bob', 'carol'] },
        { name: 'holiday cover', rotation: 'daily', shift_length: 2, handoff_time: '00:00', start: '2026-04-01', end: '2026-04-03T04:00:00Z', users: ['carol'] },
      ],
    });
    expect(created.status).toBe(201);
    // First Wednesday on or after 2 March is 4 March; New York is on EDT (UTC-4) from 8 March.
    expect((await onCallAt('2026-03-04T15:29:00Z'))).toBeNull();
    expect((await onCallAt('2026-03-04T15:30:00Z'))?.user).toBe('alice'); // EST: 10:30 = 15:30Z
    expect((await onCallAt('2026-03-11T14:29:00Z'))?.user).toBe('alice');
    expect((await onCallAt('2026-03-11T14:30:00Z'))?.user).toBe('bob'); // EDT: 10:30 = 14:30Z
    expect((await onCallAt('2026-03-18T14:30:00Z'))?.user).toBe('carol');
    expect((await onCallAt('2026-03-25T14:30:00Z'))?.user).toBe('alice');
    // The second layer covers 1 April 00:00 local (04:00Z) to its end.
    expect((await onCallAt('2026-04-02T12:00:00Z'))).toMatchObject({ user: 'carol', via: 'holiday cover' });
    expect((await onCallAt('2026-04-03T05:00:00Z'))).toMatchObject({ user: 'bob', via: 'weekly' }); // handed over on Wednesday 1 April

    const override = await server.api('POST', '/api/v1/schedules/core-weekly/overrides', {
      user: 'bob',
      starts_at: '2026-03-26T00:00:00Z',
      ends_at: '2026-03-27T00:00:00Z',
    });
    expect(override.status).toBe(201);
    expect((await onCallAt('2026-03-25T23:59:00Z'))?.user).toBe('alice');
    expect((await onCallAt('2026-03-26T12:00:00Z'))).toMatchObject({ user: 'bob', source: 'override', until: '2026-03-27T00:00:00.000Z' });
    expect((await onCallAt('2026-03-27T00:00:00Z'))?.user).toBe('alice');

    const schedule = await server.api('GET', '/api/v1/schedules/core-weekly');
    expect(schedule.body.overrides).toHaveLength(1);
    expect((await server.api('DELETE', `/api/v1/schedules/core-weekly/overrides/${override.body.id}`)).status).toBe(204);
    expect((await onCallAt('2026-03-26T12:00:00Z'))?.user).toBe('alice');
  });

  it('rejects zero-length rotations, unknown zones, unknown people and empty overrides with the field', async () => {
    const layer = { name: 'l', rotation: 'daily', handoff_time: '09:00', start: '2026-03-27', users: ['alice'] };
    const post = (body: Record<string, unknown>) => server.api('POST', '/api/v1/schedules', { id: 'bad', team: 'core', time_zone: 'UTC', layers: [layer], ...body });

    const zeroLength = await post({ layers: [{ ...layer, shift_length: 0 }] });
    expect(zeroLength.status).toBe(400);
    expect(zeroLength.body.field).toBe('layers[0].shift_length');

    const zone = await post({ time_zone: 'Mars/Olympus_Mons' });
    expect(zone.status).toBe(400);
    expect(zone.body).toMatchObject({ field: 'time_zone', code: 'validation_failed' });
    expect(zone.body.detail).toContain('IANA');

    const stranger = await post({ layers: [{ ...layer, users: ['alice', 'mallory'] }] });
    expect(stranger.status).toBe(422);
    expect(stranger.body.field).toBe('layers[0].users[1]');
    expect(stranger.body.detail).toContain('mallory is not a member of any team');

    const noTeam = await post({ team: 'nobody' });
    expect(noTeam.status).toBe(422);
    expect(noTeam.body.field).toBe('team');

    const badTime = await post({ layers: [{ ...layer, handoff_time: '24:00' }] });
    expect(badTime.status).toBe(400);
    expect(badTime.body.field).toBe('layers[0].handoff_time');

    await post({});
    const empty = await server.api('POST', '/api/v1/schedules/bad/overrides', { user: 'bob', starts_at: '2026-03-26T00:00:00Z', ends_at: '2026-03-26T00:00:00Z' });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe('ends_at');
    const unknownUser = await server.api('POST', '/api/v1/schedules/bad/overrides', { user: 'mallory', starts_at: '2026-03-26T00:00:00Z', ends_at: '2026-03-27T00:00:00Z' });
    expect(unknownUser.status).toBe(422);
    expect(unknownUser.body.field).toBe('user');
    await server.api('DELETE', '/api/v1/schedules/bad');
  });

  it('manages contact methods and severity rules only for known people', async () => {
    const channel = await server.api('POST', '/api/v1/notification-channels', { id: 'alice-mail', kind: 'email', smtp: { host: '127.0.0.1', port: 2525 }, from: 'firebreak@example.com' });
    expect(channel.status).toBe(201);
    const noAddress = await server.api('POST', '/api/v1/oncall/users/alice/contact-methods', { channel_id: 'alice-mail' });
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.field).toBe('address');
    const badAddress = await server.api('POST', '/api/v1/oncall/users/alice/contact-methods', { channel_id: 'alice-mail', address: 'not an address' });
    expect(badAddress.status).toBe(400);
    expect(badAddress.body.field).toBe('address');
    const method = await server.api('POST', '/api/v1/oncall/users/alice/contact-methods', { channel_id: 'alice-mail', address: 'alice@example.com' });
    expect(method.status).toBe(201);
    const rule = await server.api('POST', '/api/v1/oncall/users/alice/notification-rules', { contact_method_id: method.body.id, min_severity: 'high' });
    expect(rule.status).toBe(201);
    const unknown = await server.api('POST', '/api/v1/oncall/users/mallory/contact-methods', { channel_id: 'alice-mail', address: 'm@example.com' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toContain('mallory is not a member of any team');
    const alice = await server.api('GET', '/api/v1/oncall/users/alice');
    expect(alice.body).toMatchObject({ user: 'alice', teams: ['core'], contact_methods: [{ address: 'alice@example.com' }], notification_rules: [{ min_severity: 'high' }] });
    const viewer = await server.tokenFor('viewer');
    expect((await server.api('POST', '/api/v1/oncall/users/alice/contact-methods', { channel_id: 'alice-mail', address: 'a@example.com' }, { token: viewer })).status).toBe(403);
  });

  it('answers `firebreak oncall` and `firebreak channel list|test` through the API', async () => {
    await server.api('POST', '/api/v1/schedules', {
      id: 'cli-daily',
      team: 'core',
      time_zone: 'Europe/Berlin',
      layers: [{ name: 'primary', rotation: 'daily', handoff_time: '09:00', start: '2026-03-27', users: ['carol', 'bob'] }],
    });
    const oncall = await cli(server, ['--json', 'oncall', '--at', '2026-03-29T07:00:00Z', '--team', 'core']);
    const channels = await cli(server, ['channel', 'list']);
    const test = await cli(server, ['channel', 'test', 'alice-mail']);
    expect(oncall.code).toBe(0);
    const answer = JSON.parse(oncall.stdout) as OnCallBody;
    expect(answer.teams[0]!.schedules.find((s) => s.schedule === 'cli-daily')?.on_call?.user).toBe('carol');
    expect(channels.stdout).toMatch(/alice-mail\s+email/);
    // Nothing listens on the channel's SMTP port: the test really tries, and says why it failed.
    expect(test.code).toBe(6);
    expect(test.stdout).toContain('FAILED');
    expect(test.stderr).toContain('channel alice-mail test failed');
    await server.api('DELETE', '/api/v1/schedules/cli-daily');
  });
});
