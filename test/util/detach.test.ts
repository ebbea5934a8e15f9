import { detach } from '../../src/util/detach';

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
});
