import { Type, type Static } from 'typebox';

export const SECRET_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,63}$';
export const SecretNameSchema = Type.String({ pattern: SECRET_NAME_PATTERN, description: 'letters, digits and _; referenced as {{secrets.NAME}}' });

export const PutSecretSchema = Type.Object(
  { value: Type.String({ minLength: 4, maxLength: 16_384, description: 'stored encrypted; never returned' }) },
  { additionalProperties: false },
);
export type PutSecretInput = Static<typeof PutSecretSchema>;

export const SecretInfoSchema = Type.Object({
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  updated_by: Type.String(),
});
export type SecretInfo = Static<typeof SecretInfoSchema>;
