export * from './schemas.ts';
export { CheckRunner, describeSpec, type CheckEvaluator } from './runner.ts';
export { compare } from './compare.ts';
