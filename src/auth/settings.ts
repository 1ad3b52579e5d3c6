// Kept apart from oidc.ts so that reading the configuration (every CLI call does) does not load openid-client.
import { AppError } from '../shared/errors.ts';
import { ROLES, type Role } from './roles.ts';

export interface OidcSettings {
  /** The provider's issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret: string | undefined;
  /** Where the provider sends people back; defaults to `<public URL>/api/v1/sessions/oidc/callback`. */
  redirectUrl: string | undefined;
  scopes: string;
  /** The ID-token or userinfo claim whose values decide the role (a string or a list of strings). */
  roleClaim: string;
  /** Claim value → role; the highest role any value maps to wins. Empty: values named like a role map to it. */
  roleMap: ReadonlyMap<string, Role>;
  /** Role for people none of whose values map; undefined refuses them. */
  defaultRole: Role | undefined;
  /** Create an account at a person's first SSO sign-in (otherwise an admin creates it first). */
  createUsers: boolean;
  /** Label for the console's button. */
  displayName: string;
}

/** `sre-admins=admin,sre=responder` → a map; a bad entry names the variable. */
export function parseRoleMap(text: string | undefined, variable = 'FIREBREAK_OIDC_ROLE_MAP'): Map<string, Role> {
  const map = new Map<string, Role>();
  for (const entry of (text ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const at = entry.lastIndexOf('=');
    const value = entry.slice(0, at).trim();
    const role = entry.slice(at + 1).trim();
    if (at <= 0 || !value || !(ROLES as readonly string[]).includes(role)) {
      throw new AppError('validation_failed', `${variable}: "${entry}" must be <claim value>=<viewer|responder|admin>`, { field: variable });
    }
    map.set(value, role as Role);
  }
  return map;
}
