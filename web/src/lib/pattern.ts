// Topic patterns, NATS-style: `*` matches exactly one segment, a final `>`
// matches one or more trailing segments. A pattern that does not itself start
// with `sys.` never matches a `sys.` topic (the server's own topics).

const SEGMENT = /^[A-Za-z0-9_-]+$/;

import { matchTopic } from 'livedash';

/** Reports whether the concrete topic matches pattern (the client's rule, one in the codebase). */
export { matchTopic };

/** Reports whether topic matches any of patterns. */
export function matchAny(patterns: readonly string[], topic: string): boolean {
  for (const p of patterns) if (matchTopic(p, topic)) return true;
  return false;
}

/** Reports whether s is a valid pattern (or topic), as the server checks it. */
export function isValidPattern(s: string): boolean {
  if (s.length === 0 || s.length > 200) return false;
  const segs = s.split('.');
  return segs.every((seg, i) => SEGMENT.test(seg) || seg === '*' || (seg === '>' && i === segs.length - 1));
}

/** The distinct patterns of lists, sorted, for one shared stream. */
export function unionPatterns(lists: readonly (readonly string[])[]): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const p of l) set.add(p);
  return [...set].sort();
}

/**
 * Short labels for a set of topics: the segments that differ between them
 * (host.a.net.eth0, host.a.net.wlan0 → eth0, wlan0). One topic keeps its
 * last segment.
 */
export function shortLabels(topics: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (topics.length === 0) return out;
  if (topics.length === 1) {
    const segs = topics[0].split('.');
    out.set(topics[0], segs[segs.length - 1]);
    return out;
  }
  const split = topics.map((t) => t.split('.'));
  const minLen = Math.min(...split.map((s) => s.length));
  let head = 0;
  while (head < minLen - 1 && split.every((s) => s[head] === split[0][head])) head++;
  let tail = 0;
  while (
    tail < minLen - head - 1 &&
    split.every((s) => s[s.length - 1 - tail] === split[0][split[0].length - 1 - tail])
  )
    tail++;
  topics.forEach((t, i) => {
    const s = split[i];
    const label = s.slice(head, s.length - tail).join('.');
    out.set(t, label || t);
  });
  return out;
}

/**
 * Labels for chart series keyed "topic" or "topic|field": the field alone
 * for one topic, else the distinguishing part of the topic (and the field).
 */
export function seriesLabels(keys: readonly string[]): string[] {
  const topics = [...new Set(keys.map((k) => k.split('|')[0]))];
  const short = shortLabels(topics);
  return keys.map((k) => {
    const [topic, field] = k.split('|');
    if (!field) return short.get(topic) ?? topic;
    return topics.length === 1 ? field : `${short.get(topic)} ${field}`;
  });
}
