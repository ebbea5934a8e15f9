import { detach } from '../../src/util/detach';
import { settledHeap } from '../helpers/gc';

describe('detach', () => {
  it('gives back the same text, whatever its characters', () => {
    for (const text of [
      '',
      'abc',
      'caf\u00e9\u00ff',
      'x'.repeat(300),
      '\u20ac\ud800 lone \udc00',
      '😀',
    ]) {
      expect(detach(text)).toBe(text);
    }
  });

  // From hand-made mutants: with the fast path taking 13 characters too, the bounds tests still
  // passed (few of their user names have exactly 13), yet V8 makes a substring of 13 a view.
  it('copies a substring of exactly 13 characters, which V8 makes a view of its whole text', async () => {
    const before = await settledHeap();
    const kept: string[] = [];
    for (let i = 0; i < 500; i++) {
      const whole = `${String(i).padStart(13, '0')}:${'x'.repeat(20_000)}`;
      kept.push(detach(whole.slice(0, 13)));
    }
    // As views, the 500 would hold 10 MB.
    expect((await settledHeap()) - before).toBeLessThan(3 * 1024 * 1024);
    expect(kept[499]).toBe('0000000000499');
  });
});
