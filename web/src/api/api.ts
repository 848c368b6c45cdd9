// The one typed wrapper around the livedash HTTP API (/api/v1). Every call
// sends the token as a Bearer header when one is known; a 401 from any call
// is reported to the app, which shows the sign-in panel.

import type { Dashboard } from '../lib/dashboard';
import type { Envelope } from '../lib/envelope';
import { getToken } from '../lib/token';

export const API = '/api/v1';

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = (err: ApiError) => void;
const unauthorized = new Set<Listener>();

/** Calls fn on every 401 (no, invalid or expired token). */
export function onUnauthorized(fn: Listener): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

/** Sends a request with the token; a status other than 2xx or 304 is thrown as an ApiError. */
async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  const token = getToken();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(API + path, { ...init, headers, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'The server cannot be reached.');
  }
  if (!res.ok && res.status !== 304) {
    let msg = res.statusText || `HTTP ${res.status}`;
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') msg = body.error;
    } catch {
      /* not JSON */
    }
    const err = new ApiError(res.status, msg);
    if (res.status === 401) for (const fn of unauthorized) fn(err);
    throw err;
  }
  return res;
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await send(path, init);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

function q(params: Record<string, string | number | undefined | string[]>): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => s.append(k, x));
    else s.append(k, String(v));
  }
  const out = s.toString();
  return out ? '?' + out : '';
}

// Response types, one per endpoint.
export interface TopicInfo {
  topic: string;
  last: Envelope | null;
  count: number;
}
export interface HistoryResponse {
  messages: Envelope[];
}
export interface Bucket {
  t: number;
  count: number;
  min: number;
  max: number;
  avg: number;
  sum: number;
  last: number;
}
export interface StepResponse {
  series: { topic: string; buckets: Bucket[] }[];
}

/** A dashboard definition and its ETag, or null when it has not changed since etag. */
async function dashboardIfChanged(name: string, etag: string): Promise<{ dash: Dashboard; etag: string; readOnly?: boolean } | null> {
  const res = await send(`/dashboards/${encodeURIComponent(name)}`, { headers: etag ? { 'If-None-Match': etag } : {}, cache: 'no-store' });
  if (res.status === 304) return null;
  return { dash: (await res.json()) as Dashboard, etag: res.headers.get('ETag') ?? '', readOnly: res.headers.has('Livedash-Read-Only') };
}

/** The outcome of a test notification (POST /notify/test). */
export interface NotifyOutcome {
  id: string;
  receiver: string;
  outcome: 'sent' | 'retry' | 'failed' | 'gave_up' | 'pending';
  attempt?: number;
  status?: number;
  error?: string;
}

export const api = {
  dashboardIfChanged,
  dashboards: () => request<Dashboard[]>('/dashboards'),
  putDashboard: (d: Dashboard) =>
    request<Dashboard>(`/dashboards/${encodeURIComponent(d.name)}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(d) }),
  deleteDashboard: (name: string) => request<void>(`/dashboards/${encodeURIComponent(name)}`, { method: 'DELETE' }),
  topics: (pattern?: string) => request<TopicInfo[]>('/topics' + q({ topic: pattern })),
  /** What the caller may read, as the patterns of one stream (GET /access). */
  access: () => request<{ sub?: string; admin: boolean; read: string[] }>('/access'),
  history: (pattern: string, o: { from?: number; to?: number; limit?: number } = {}) =>
    request<HistoryResponse>('/history' + q({ topic: pattern, from: o.from, to: o.to, limit: o.limit })),
  notifyReceivers: () => request<{ receivers: string[] }>('/notify/receivers'),
  notifyTest: (receiver: string) => request<NotifyOutcome>('/notify/test' + q({ receiver }), { method: 'POST' }),
  historyStep: (pattern: string, o: { from?: number; to?: number; step: string; field?: string }) =>
    request<StepResponse>('/history' + q({ topic: pattern, from: o.from, to: o.to, step: o.step, field: o.field })),
};
