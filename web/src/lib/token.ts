// The access token: taken from ?token= on first visit, kept in localStorage
// and in the livedash_token cookie (which the server also reads, for GET
// requests only), and removed from the address bar so it is not bookmarked or
// shared by accident. Writes send the token as a Bearer header, so the app
// reads it from storage; the cookie is set here, by the app, and is therefore
// not HttpOnly. It is SameSite=Strict and lives only as long as the token.

export const TOKEN_KEY = 'livedash_token';

/** Splits ?token= out of a URL; returns the token (or null) and the URL without it. */
export function extractToken(href: string): { token: string | null; url: string } {
  const u = new URL(href);
  const token = u.searchParams.get('token');
  if (token === null) return { token: null, url: href };
  u.searchParams.delete('token');
  return { token: token.trim() || null, url: u.pathname + u.search + u.hash };
}

/** The token's expiry in unix ms (its JWT exp claim), or null when it has none or is no JWT. */
export function tokenExpiry(token: string): number | null {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
}

/**
 * The cookie for token: Path=/, SameSite=Strict, Secure on https, expiring
 * with the token (a session cookie when its expiry is unknown); null clears it.
 */
export function cookieFor(token: string | null, secure: boolean, now: number = Date.now()): string {
  const base = `${TOKEN_KEY}=${token ? encodeURIComponent(token) : ''}; Path=/; SameSite=Strict${secure ? '; Secure' : ''}`;
  if (!token) return `${base}; Max-Age=0`;
  const exp = tokenExpiry(token);
  if (exp === null) return base;
  return `${base}; Max-Age=${Math.max(Math.floor((exp - now) / 1000), 0)}`;
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage blocked, e.g. a sandboxed iframe
  }
}

let memory: string | null = null;

export function getToken(): string | null {
  return storage()?.getItem(TOKEN_KEY) ?? memory;
}

export function setToken(token: string | null): void {
  memory = token;
  const st = storage();
  try {
    if (token) st?.setItem(TOKEN_KEY, token);
    else st?.removeItem(TOKEN_KEY);
  } catch {
    /* quota or blocked: memory only */
  }
  if (typeof document !== 'undefined') document.cookie = cookieFor(token, location.protocol === 'https:');
}

/** Moves ?token= from the address bar into storage; call once at start-up. */
export function captureToken(): void {
  if (typeof window === 'undefined') return;
  const { token, url } = extractToken(window.location.href);
  if (token === null && url === window.location.href) return;
  if (token) setToken(token);
  window.history.replaceState(window.history.state, '', url);
}

/** The claims of a livedash JWT that decide what the viewer may read. */
export interface Claims {
  sub?: string;
  exp?: number;
  admin?: boolean;
  channels?: Record<string, { subscribe?: boolean; publish?: boolean }>;
}

/**
 * Reads the claims of a JWT without checking its signature (the server does
 * that on every request): the UI only uses them to pick what to subscribe
 * to. Null for anything that is not a JWT with a JSON object payload.
 */
export function tokenClaims(token: string | null): Claims | null {
  if (!token) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const json = new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
    const c = JSON.parse(json);
    return c && typeof c === 'object' && !Array.isArray(c) ? (c as Claims) : null;
  } catch {
    return null;
  }
}

/**
 * The patterns a viewer with these claims may subscribe to, for one stream
 * that covers everything it may read: `>` and `sys.>` for an admin, else
 * the subscribe grants (the server refuses a stream unless every pattern is
 * covered by a grant, so no more than these).
 */
export function readPatterns(c: Claims | null): string[] {
  if (!c) return [];
  if (c.admin === true) return ['>', 'sys.>'];
  const out: string[] = [];
  const ch = c.channels;
  if (ch && typeof ch === 'object') {
    for (const [p, g] of Object.entries(ch)) if (g && typeof g === 'object' && g.subscribe === true) out.push(p);
  }
  return out.sort();
}
