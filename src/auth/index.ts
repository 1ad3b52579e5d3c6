export { ROLES, roleAllows, type Role, type Principal } from './roles.ts';
export {
  TokenService,
  hashToken,
  generateToken,
  RoleSchema,
  CreateTokenSchema,
  TokenSchema,
  CreatedTokenSchema,
  type TokenInfo,
} from './tokens.ts';
export { tokenMigrations, peopleMigrations, type PeopleTables } from './schema.ts';
export {
  PeopleService,
  CreateUserSchema,
  UpdateUserSchema,
  UserSchema,
  PersonSchema,
  type User,
  type Person,
  type CreateUserInput,
} from './people.ts';
export { SessionService, SESSION_COOKIE, CSRF_HEADER } from './sessions.ts';
export { SignInService, AttemptWindow, DEFAULT_SIGN_IN_LIMITS, type SignInLimits } from './sign-in.ts';
export { OidcSignIn, parseRoleMap, roleFromClaims, safeReturnPath, type OidcSettings } from './oidc.ts';
export { Authenticator, type Credential } from './authenticator.ts';
export { tokenRoutes } from './routes.ts';
export { peopleRoutes } from './people-routes.ts';
