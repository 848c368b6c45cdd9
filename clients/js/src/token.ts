// Reading the expiry of a JWT without verifying it: the client only needs
// to know when to ask for a fresh one.

/** The exp claim of a JWT in unix ms, or undefined. */
export function tokenExpiry(token: string): number | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When to refresh a token that expires at exp, obtained at now: a fifth of
 * its lifetime before exp, between 1 s and 30 s ahead.
 */
export function refreshAt(exp: number, now: number): number {
  const lead = Math.min(30_000, Math.max(1000, (exp - now) / 5));
  return Math.max(now, exp - lead);
}
