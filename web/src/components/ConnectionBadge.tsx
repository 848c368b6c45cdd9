import { formatAgo } from '../lib/duration';
import type { StreamClient } from '../lib/stream';
import { useStreamState, useTick } from './hooks';

const LABEL: Record<string, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

/** Live (green) / Reconnecting… (amber) / Offline (red), and "last message Ns ago". */
export function ConnectionBadge({ stream, compact = false }: { stream: StreamClient | null; compact?: boolean }) {
  const { state, lastMessageAt } = useStreamState(stream);
  const now = useTick(1000);
  const ago = lastMessageAt === null ? null : formatAgo(now - lastMessageAt);
  return (
    <div className="conn" aria-live="polite">
      <span className={`badge badge-${state}`} title={stream ? `Stream: ${stream.patterns.join(', ')}` : undefined}>
        <span className="dot" />
        {compact ? null : LABEL[state] ?? state}
      </span>
      {!compact ? <span className="muted small ago">{ago === null ? 'no messages yet' : `last message ${ago}`}</span> : null}
    </div>
  );
}
