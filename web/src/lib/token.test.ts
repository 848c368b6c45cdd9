import { describe, expect, it } from 'vitest';
import { cookieFor, extractToken } from './token';

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
