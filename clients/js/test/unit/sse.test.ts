import { describe, expect, it } from 'vitest';
import { SSEParser, streamURL } from '../../src/sse';
import { compareIds, isAfter } from '../../src/ids';
import { matchTopic } from '../../src/pattern';

describe('SSEParser', () => {
  it('splits events across chunks, skips comments and the retry line, joins data lines', () => {
    const got: [string, string][] = [];
    const p = new SSEParser((t, d) => got.push([t, d]));
    p.push('retry: 2000\n\n: ping\n\nid: 1-a\nevent: po');
    p.push('int\ndata: {"a":');
    p.push('1}\r\n\r\ndata: x\ndata: y\n\n');
    expect(got).toEqual([
      ['point', '{"a":1}'],
      ['message', 'x\ny'],
    ]);
  });

  it('puts the resume id in since=, not a header', () => {
    const u = new URL(streamURL({ url: 'http://h:1', patterns: ['a.>', 'b'], since: '5-e', backlog: 3 }));
    expect(u.pathname).toBe('/api/v1/stream');
    expect(u.searchParams.getAll('topic')).toEqual(['a.>', 'b']);
    expect(u.searchParams.get('since')).toBe('5-e');
    expect(u.searchParams.get('backlog')).toBe('3');
  });
});

describe('ids and patterns', () => {
  it('compares ids within an epoch, numerically', () => {
    expect(compareIds('9-e', '10-e')).toBeLessThan(0);
    expect(compareIds('10-e', '10-e')).toBe(0);
    expect(compareIds('11-e', '10-f')).toBeNull();
    expect(compareIds('x-e', '1-e')).toBeNull();
    expect(isAfter('2-e', '1-e')).toBe(true);
    expect(isAfter('1-e', '1-e')).toBe(false);
    expect(isAfter('1-f', '9-e')).toBe(true);
    expect(isAfter('1-e', undefined)).toBe(true);
  });
  it('matches NATS-style patterns, sys. only explicitly', () => {
    expect(matchTopic('a.*', 'a.b')).toBe(true);
    expect(matchTopic('a.*', 'a.b.c')).toBe(false);
    expect(matchTopic('a.>', 'a.b.c')).toBe(true);
    expect(matchTopic('a.>', 'a')).toBe(false);
    expect(matchTopic('>', 'sys.x')).toBe(false);
    expect(matchTopic('sys.>', 'sys.x')).toBe(true);
  });
});
