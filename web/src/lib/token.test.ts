import { describe, expect, it } from 'vitest';
import { cookieFor, extractToken, readPatterns, tokenClaims, tokenExpiry } from './token';

// A JWT with the given claims (the signature is not checked here).
const jwt = (claims: unknown) => {
  const b = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b('{"alg":"HS256","typ":"JWT"}')}.${b(JSON.stringify(claims))}.sig`;
};

describe('token', () => {
  it('takes ?token= out of the URL, keeping the rest', () => {
    expect(extractToken('http://x/d/shop?token=abc&theme=dark#w')).toEqual({ token: 'abc', url: '/d/shop?theme=dark#w' });
    expect(extractToken('http://x/?token=abc')).toEqual({ token: 'abc', url: '/' });
    expect(extractToken('http://x/d/shop')).toEqual({ token: null, url: 'http://x/d/shop' });
    expect(extractToken('http://x/?token=')).toEqual({ token: null, url: '/' });
  });
  it('writes the cookie the server reads, expiring with the token', () => {
    const now = 1_700_000_000_000;
    const t = jwt({ sub: 'x', exp: now / 1000 + 3600 });
    expect(tokenExpiry(t)).toBe(now + 3600_000);
    expect(cookieFor(t, false, now)).toBe(`livedash_token=${t}; Path=/; SameSite=Strict; Max-Age=3600`);
    expect(cookieFor(t, true, now)).toBe(`livedash_token=${t}; Path=/; SameSite=Strict; Secure; Max-Age=3600`);
    expect(cookieFor(jwt({ sub: 'x', exp: now / 1000 - 5 }), false, now)).toContain('; Max-Age=0');
    expect(cookieFor('a b', false)).toBe('livedash_token=a%20b; Path=/; SameSite=Strict'); // no exp: a session cookie
    expect(tokenExpiry('a.b')).toBeNull();
    expect(cookieFor(null, false)).toContain('Max-Age=0');
  });
});


describe('tokenClaims and readPatterns', () => {
  it('reads the claims of a JWT (base64url, unicode)', () => {
    expect(tokenClaims(jwt({ sub: 'zoë', admin: true }))).toEqual({ sub: 'zoë', admin: true });
    expect(tokenClaims('not a jwt')).toBeNull();
    expect(tokenClaims('a.!!!.c')).toBeNull();
    expect(tokenClaims(jwt([1, 2]))).toBeNull();
    expect(tokenClaims(null)).toBeNull();
  });
  it('an admin reads every topic and the server’s own', () => {
    expect(readPatterns({ admin: true })).toEqual(['>', 'sys.>']);
  });
  it('others read their subscribe grants only', () => {
    const c = tokenClaims(
      jwt({ sub: 'v', channels: { 'shop.>': { subscribe: true }, 'host.*.cpu': { subscribe: true, publish: true }, 'in.>': { publish: true } } }),
    );
    expect(readPatterns(c)).toEqual(['host.*.cpu', 'shop.>']);
    expect(readPatterns({ sub: 'x' })).toEqual([]);
    expect(readPatterns(null)).toEqual([]);
  });
});
