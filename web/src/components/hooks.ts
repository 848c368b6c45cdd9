import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { ApiError } from '../api/api';
import { BackfillGate } from '../lib/backfill';
import type { Envelope } from '../lib/envelope';
import type { StreamClient } from '../lib/stream';

export const StreamContext = createContext<StreamClient | null>(null);

export function useStreamClient(): StreamClient {
  const s = useContext(StreamContext);
  if (!s) throw new Error('no stream: widgets must be inside a dashboard page');
  return s;
}

/**
 * Re-renders on changes of the stream's state (connection, last message),
 * at most once per animation frame: a busy stream changes lastMessageAt on
 * every message.
 */
export function useStreamState(stream: StreamClient | null): { state: string; lastMessageAt: number | null } {
  const sub = useCallback(
    (fn: () => void) => {
      if (!stream) return () => {};
      let frame = 0;
      const off = stream.onChange(() => {
        if (frame) return;
        if (typeof requestAnimationFrame !== 'function') return fn();
        frame = requestAnimationFrame(() => {
          frame = 0;
          fn();
        });
      });
      return () => {
        off();
        if (frame) cancelAnimationFrame(frame);
      };
    },
    [stream],
  );
  const state = useSyncExternalStore(sub, () => stream?.state ?? 'connecting');
  const lastMessageAt = useSyncExternalStore(sub, () => stream?.lastMessageAt ?? null);
  return { state, lastMessageAt };
}

/** Returns a function that schedules one re-render on the next animation frame. */
export function useFrameRender(): () => void {
  const [, setN] = useState(0);
  const pending = useRef(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  return useCallback(() => {
    if (pending.current) return;
    pending.current = true;
    const run = () => {
      pending.current = false;
      if (alive.current) setN((n) => n + 1);
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(run);
    else setTimeout(run, 250);
  }, []);
}

/** Re-renders every ms milliseconds (for "5s ago" labels and sliding windows). */
export function useTick(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export interface WidgetFeed {
  /** Loads history (any order, may overlap live messages). */
  load(): Promise<Envelope[]>;
  /** Applies messages, each once, in id order per topic. live is false for history. */
  apply(msgs: Envelope[], live: boolean): void;
  /** Clears all state (before a load, and on reset). */
  clear(): void;
}

function describe(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return `Not allowed: ${e.message}`;
    if (e.status === 0) return e.message;
    return `History unavailable (${e.status}): ${e.message}`;
  }
  return 'History unavailable.';
}

/**
 * Feeds a widget: loads its history, then the live messages of its patterns
 * from the page's stream, each applied once (see BackfillGate). On a reset
 * of its patterns, or a new reloadKey (another time range), it clears and
 * loads again.
 */
export function useWidgetFeed(patterns: readonly string[], feed: WidgetFeed, reloadKey = ''): { loading: boolean; error: string | null } {
  const stream = useStreamClient();
  const ref = useRef(feed);
  ref.current = feed;
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const key = patterns.join('\n');
  useEffect(() => {
    const gate = new BackfillGate();
    let alive = true;
    const run = () => {
      const gen = gate.begin();
      ref.current.clear();
      setLoading(true);
      ref.current
        .load()
        .then(
          (ms) => {
            if (alive) setError(null);
            return ms;
          },
          (e) => {
            if (alive) setError(describe(e));
            return [] as Envelope[];
          },
        )
        .then((ms) => {
          if (!alive) return;
          const out = gate.history(gen, ms);
          if (out === null) return;
          if (out.length) ref.current.apply(out, false);
          setLoading(false);
        });
    };
    const unsub = stream.subscribe({
      patterns: key.split('\n'),
      onMessage: (m) => {
        const x = gate.live(m);
        if (x) ref.current.apply([x], true);
      },
      onReset: run,
    });
    run();
    return () => {
      alive = false;
      unsub();
    };
  }, [stream, key, reloadKey]);
  return { loading, error };
}

/** The container's size, kept up to date with a ResizeObserver. */
export function useSize<T extends HTMLElement>(): [React.RefObject<T | null>, { width: number; height: number }] {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(([e]) => {
      const r = e.contentRect;
      setSize((s) => (s.width === Math.round(r.width) && s.height === Math.round(r.height) ? s : { width: Math.round(r.width), height: Math.round(r.height) }));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, size];
}
