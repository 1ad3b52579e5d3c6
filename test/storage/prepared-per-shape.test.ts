import { describe, expect, it } from 'vitest';
import { preparedPerShape } from '../../src/storage/index.ts';

describe('preparedPerShape', () => {
  it('builds each shape once, telling lists apart by their items', () => {
    const built: string[] = [];
    const perKinds = preparedPerShape((kinds: readonly string[]) => {
      built.push(kinds.join('+'));
      return { kinds: [...kinds] };
    });
    const first = perKinds(['created', 'acknowledged']);
    expect(perKinds(['created', 'acknowledged'])).toBe(first);
    expect(perKinds(['created'])).not.toBe(first);
    // Items are joined with a separator no kind contains, so ['a,b'] and ['a', 'b'] are different shapes.
    expect(perKinds(['a,b'])).not.toBe(perKinds(['a', 'b']));
    expect(built).toEqual(['created+acknowledged', 'created', 'a,b', 'a+b']);

    const perCount = preparedPerShape((count: number) => ({ count }));
    expect(perCount(4)).toBe(perCount(4));
    expect(perCount(8).count).toBe(8);
  });
});
