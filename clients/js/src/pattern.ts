// NATS-style topic patterns: `*` is one segment, a final `>` one or more.
// A pattern matches a `sys.` topic only if it starts with `sys.` itself.

export function matchTopic(pattern: string, topic: string): boolean {
  if (topic.startsWith('sys.') && !pattern.startsWith('sys.')) return false;
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length || (p[i] !== '*' && p[i] !== t[i])) return false;
  }
  return p.length === t.length;
}

export function matchAny(patterns: readonly string[], topic: string): boolean {
  return patterns.some((p) => matchTopic(p, topic));
}
