export { ROLES, roleAllows, type Role, type Principal } from './roles.ts';
export {
  TokenService,
  tokenMigrations,
  hashToken,
  generateToken,
  RoleSchema,
  CreateTokenSchema,
  TokenSchema,
  CreatedTokenSchema,
  type TokenInfo,
} from './tokens.ts';
export { tokenRoutes } from './routes.ts';
