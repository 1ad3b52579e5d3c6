import { describe, expect, it } from 'vitest';
import { headLines } from './fishbone-svg.ts';

describe('fishbone head label', () => {
  it('wraps the problem at spaces into lines that fit the head', () => {
    const lines = headLines('chat-api returns 429 for every tenant after the quota change');
    expect(lines.every((l) => l.length <= 22)).toBe(true);
    expect(lines.join(' ')).toBe('chat-api returns 429 for every tenant after the quota change');
  });

  it('ends with an ellipsis only when the text is longer than the head holds', () => {
    expect(headLines('short problem')).toEqual(['short problem']);
    const long = headLines('word '.repeat(60));
    expect(long).toHaveLength(5);
    expect(long[4]!.endsWith('…')).toBe(true);
    expect(headLines('x'.repeat(30))).toEqual(['x'.repeat(22), 'x'.repeat(8)]);
  });
});
