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
export { tokenMigrations } from './schema.ts';
export { tokenRoutes } from './routes.ts';
