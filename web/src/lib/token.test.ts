import { describe, expect, it } from 'vitest';
import { cookieFor, extractToken, tokenExpiry } from './token';

// A JWT whose payload is {"sub":"x","exp":exp} (the signature is not checked here).
function jwt(exp: number): string {
  const b64 = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${b64('{"alg":"HS256"}')}.${b64(JSON.stringify({ sub: 'x', exp }))}.sig`;
}

describe('token', () => {
  it('takes ?token= out of the URL, keeping the rest', () => {
    expect(extractToken('http://x/d/shop?token=abc&theme=dark#w')).toEqual({ token: 'abc', url: '/d/shop?theme=dark#w' });
    expect(extractToken('http://x/?token=abc')).toEqual({ token: 'abc', url: '/' });
    expect(extractToken('http://x/d/shop')).toEqual({ token: null, url: 'http://x/d/shop' });
    expect(extractToken('http://x/?token=')).toEqual({ token: null, url: '/' });
  });
  it('writes the cookie the server reads, expiring with the token', () => {
    const now = 1_700_000_000_000;
    const t = jwt(now / 1000 + 3600);
    expect(tokenExpiry(t)).toBe(now + 3600_000);
    expect(cookieFor(t, false, now)).toBe(`livedash_token=${t}; Path=/; SameSite=Strict; Max-Age=3600`);
    expect(cookieFor(t, true, now)).toBe(`livedash_token=${t}; Path=/; SameSite=Strict; Secure; Max-Age=3600`);
    expect(cookieFor(jwt(now / 1000 - 5), false, now)).toContain('; Max-Age=0');
    expect(cookieFor('a b', false)).toBe('livedash_token=a%20b; Path=/; SameSite=Strict'); // no exp: a session cookie
    expect(tokenExpiry('a.b')).toBeNull();
    expect(cookieFor(null, false)).toContain('Max-Age=0');
  });
});
