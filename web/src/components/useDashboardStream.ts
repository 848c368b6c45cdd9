import { useEffect, useState } from 'react';
import { api } from '../api/api';
import { dashboardPatterns, type Widget } from '../lib/dashboard';
import { isValidPattern } from '../lib/pattern';
import { StreamClient } from '../lib/stream';

/**
 * The page's one stream for the patterns its widgets read. It depends only
 * on those patterns: a definition that changes titles, options or layout,
 * as the editor does on every keystroke, does not interrupt it. Patterns
 * that are not valid yet (half typed) are left out.
 */
export function useDashboardStream(widgets: readonly Widget[], enabled = true): StreamClient | null {
  const [stream, setStream] = useState<StreamClient | null>(null);
  const patternKey = dashboardPatterns(widgets).filter(isValidPattern).join('\n');
  useEffect(() => {
    if (!enabled) return;
    const patterns = patternKey ? patternKey.split('\n') : [];
    const s = new StreamClient({
      patterns,
      // The client gave up: ask the API once, so a 401 shows the sign-in panel.
      onGiveUp: () => {
        if (patterns[0]) api.topics(patterns[0]).catch(() => {});
      },
    });
    setStream(s);
    s.start();
    return () => {
      s.close();
      setStream(null);
    };
  }, [enabled, patternKey]);
  return stream;
}
