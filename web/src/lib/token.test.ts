import { describe, expect, it } from 'vitest';
import { cookieFor, extractToken, readPatterns, tokenClaims } from './token';

describe('token', () => {
  it('takes ?token= out of the URL, keeping the rest', () => {
    expect(extractToken('http://x/d/shop?token=abc&theme=dark#w')).toEqual({ token: 'abc', url: '/d/shop?theme=dark#w' });
    expect(extractToken('http://x/?token=abc')).toEqual({ token: 'abc', url: '/' });
    expect(extractToken('http://x/d/shop')).toEqual({ token: null, url: 'http://x/d/shop' });
    expect(extractToken('http://x/?token=')).toEqual({ token: null, url: '/' });
  });
  it('writes the cookie the server reads', () => {
    expect(cookieFor('a b', false)).toBe('livedash_token=a%20b; path=/; SameSite=Lax; max-age=31536000');
    expect(cookieFor('t', true)).toContain('; Secure');
    expect(cookieFor(null, false)).toContain('max-age=0');
  });
});

const jwt = (claims: unknown) => {
  const b = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b('{"alg":"HS256","typ":"JWT"}')}.${b(JSON.stringify(claims))}.sig`;
};

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
