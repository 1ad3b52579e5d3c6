import { expect, it } from 'vitest';
import { AttemptWindow, roleFromClaims, parseRoleMap, safeReturnPath } from '../../src/auth/index.ts';

it('blocks a key after its failures reach the limit, until the window ends', () => {
  const window = new AttemptWindow(3, 60_000);
  for (let i = 0; i < 3; i++) {
    expect(window.blocked('10.0.0.1', 1_000)).toBeUndefined();
    window.fail('10.0.0.1', 1_000 + i);
  }
  expect(window.blocked('10.0.0.1', 2_000)).toBe(59);
  expect(window.blocked('10.0.0.2', 2_000)).toBeUndefined();
  expect(window.blocked('10.0.0.1', 61_000)).toBeUndefined();
  window.fail('10.0.0.3', 0);
  window.forget('10.0.0.3');
  expect(window.blocked('10.0.0.3', 0)).toBeUndefined();
});

it('maps claim values to the highest role, with a default or a refusal for the rest', () => {
  const settings = { roleClaim: 'groups', roleMap: parseRoleMap('sre-leads=admin, sre=responder'), defaultRole: undefined };
  expect(roleFromClaims({ groups: ['sre', 'sre-leads'] }, settings)).toBe('admin');
  expect(roleFromClaims({ groups: 'sre' }, settings)).toBe('responder');
  expect(roleFromClaims({ groups: ['marketing'] }, settings)).toBeUndefined();
  expect(roleFromClaims({}, { ...settings, defaultRole: 'viewer' })).toBe('viewer');
  expect(roleFromClaims({ realm_access: { roles: ['admin'] } }, { roleClaim: 'realm_access.roles', roleMap: new Map(), defaultRole: undefined })).toBe('admin');
  expect(() => parseRoleMap('sre=owner')).toThrow(/FIREBREAK_OIDC_ROLE_MAP/);
  expect(() => parseRoleMap('=admin')).toThrow(/FIREBREAK_OIDC_ROLE_MAP/);
});

it('returns only to paths on this server', () => {
  expect(safeReturnPath('/incidents/INC-1')).toBe('/incidents/INC-1');
  for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', 'incidents', undefined]) expect(safeReturnPath(bad)).toBe('/');
});

it('reads sign-in settings from the environment, naming the variable that is wrong', async () => {
  const { configFromEnv } = await import('../../src/app/config.ts');
  const oidc = configFromEnv({ FIREBREAK_OIDC_ISSUER: 'https://sso.example.com/realms/ops', FIREBREAK_OIDC_CLIENT_ID: 'firebreak', FIREBREAK_PUBLIC_URL: 'https://fb.example.com/', FIREBREAK_OIDC_ROLE_MAP: 'sre=responder' }).oidc;
  expect(oidc).toMatchObject({ clientId: 'firebreak', redirectUrl: 'https://fb.example.com/api/v1/sessions/oidc/callback', roleClaim: 'groups', scopes: 'openid email profile', createUsers: true });
  expect(configFromEnv({}).oidc).toBeUndefined();
  expect(configFromEnv({}).sessionHours).toBe(12);
  for (const [env, variable] of [
    [{ FIREBREAK_OIDC_ISSUER: 'https://sso.example.com' }, 'FIREBREAK_OIDC_CLIENT_ID'],
    [{ FIREBREAK_OIDC_ISSUER: 'not a url', FIREBREAK_OIDC_CLIENT_ID: 'x' }, 'FIREBREAK_OIDC_ISSUER'],
    [{ FIREBREAK_OIDC_ISSUER: 'https://sso.example.com', FIREBREAK_OIDC_CLIENT_ID: 'x', FIREBREAK_OIDC_DEFAULT_ROLE: 'root' }, 'FIREBREAK_OIDC_DEFAULT_ROLE'],
    [{ FIREBREAK_SESSION_HOURS: '0' }, 'FIREBREAK_SESSION_HOURS'],
  ] as const) {
    expect(() => configFromEnv(env), variable).toThrow(variable);
  }
});
