import { identityResult } from '../../src/scheme';
import { nullObject } from '../../src/util/null-object';

describe('nullObject()', () => {
  it('has no prototype, and takes __proto__ as a key like any other', () => {
    const object = nullObject<unknown>();
    expect(Object.getPrototypeOf(object)).toBeNull();
    expect('toString' in object).toBe(false);
    object['__proto__'] = { polluted: true };
    expect(Object.getPrototypeOf(object)).toBeNull();
    expect(Object.keys(object)).toEqual(['__proto__']);
    expect(object['__proto__']).toEqual({ polluted: true });
  });

  it('is a fresh object each time', () => {
    const a = nullObject<string>();
    a['x'] = '1';
    expect(nullObject<string>()).toEqual({});
  });
});

describe('identityResult() details', () => {
  it('are a null-prototype copy of every field but user and scheme, in order', () => {
    const given = JSON.parse(
      '{"user":"u","scheme":"X","b":1,"a":2,"__proto__":{"p":true}}',
    ) as object;
    const result = identityResult(given);
    expect(result.ok).toBe(true);
    const { details } = result as { details: Record<string, unknown> };
    expect(Object.getPrototypeOf(details)).toBeNull();
    expect(Object.keys(details)).toEqual(['b', 'a', '__proto__']);
    expect(details['__proto__']).toEqual({ p: true });
  });
});
