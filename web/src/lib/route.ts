// The app's routes, read from the path the server served index.html for.

export type Route =
  | { page: 'index' }
  | { page: 'dashboard'; name: string }
  | { page: 'edit'; name: string | null }
  | { page: 'embed'; name: string; widget?: string }
  | { page: 'explore'; patterns: string[] }
  | { page: 'notfound'; path: string };

export function parseRoute(pathname: string, search = ''): Route {
  const parts = pathname.replace(/\/+$/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'index.html')) return { page: 'index' };
  if (parts[0] === 'explore' && parts.length === 1) {
    const patterns = new URLSearchParams(search)
      .getAll('topic')
      .map((p) => p.trim())
      .filter(Boolean);
    return { page: 'explore', patterns: [...new Set(patterns)] };
  }
  if (parts[0] === 'd' && parts.length === 2) return { page: 'dashboard', name: parts[1] };
  if (parts[0] === 'd' && parts.length === 3 && parts[2] === 'edit') return { page: 'edit', name: parts[1] };
  if (parts.length === 1 && parts[0] === 'new') return { page: 'edit', name: null };
  if (parts[0] === 'embed' && parts.length === 2) return { page: 'embed', name: parts[1] };
  if (parts[0] === 'embed' && parts.length === 3) return { page: 'embed', name: parts[1], widget: parts[2] };
  return { page: 'notfound', path: pathname };
}

export function dashboardPath(name: string): string {
  return `/d/${encodeURIComponent(name)}`;
}

/** The editor of a dashboard, or of a new one. */
export function editPath(name: string | null): string {
  return name === null ? '/new' : `/d/${encodeURIComponent(name)}/edit`;
}

export function embedPath(name: string, widget?: string): string {
  return `/embed/${encodeURIComponent(name)}` + (widget ? `/${encodeURIComponent(widget)}` : '');
}

/** /explore for topic patterns (or topics): `?topic=shop.>&topic=host.cpu`. */
export function explorePath(patterns: readonly string[]): string {
  const q = new URLSearchParams();
  for (const p of patterns) q.append('topic', p);
  // Keep the pattern readable in the address bar: only escape what must be.
  return '/explore' + (patterns.length ? '?' + q.toString().replace(/%3E/g, '>').replace(/%2A/g, '*') : '');
}

/** Navigates inside the app without a page load. */
export function navigate(to: string): void {
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}
