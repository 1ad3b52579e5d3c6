export { seededRandom } from '../../src/shared/random.ts';
