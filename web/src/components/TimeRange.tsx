import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { describeRange, LIVE, parseRange, PRESETS, withRange, type TimeRange } from '../lib/timerange';

interface RangeState {
  range: TimeRange;
  setRange(r: TimeRange): void;
}

/** The page's time range; live with each chart's own window when no page sets one. */
export const TimeRangeContext = createContext<RangeState>({ range: LIVE, setRange: () => {} });

export function useTimeRange(): RangeState {
  return useContext(TimeRangeContext);
}

/** The range kept in the page's URL (from, to, range), so a link shares it. */
export function useUrlTimeRange(): RangeState {
  const [range, set] = useState(() => parseRange(location.search));
  useEffect(() => {
    const on = () => set(parseRange(location.search));
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  const setRange = useCallback((r: TimeRange) => {
    history.pushState(null, '', location.pathname + withRange(location.search, r) + location.hash);
    set(r);
  }, []);
  return { range, setRange };
}

// datetime-local inputs speak local time without a zone.
function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 19);
}

/** Live, the presets, a custom range; and back to live from a zoom. */
export function RangePicker() {
  const { range, setRange } = useTimeRange();
  const [custom, setCustom] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const openCustom = () => {
    const end = range.kind === 'fixed' ? range.to : Date.now();
    const start = range.kind === 'fixed' ? range.from : end - (range.span ?? 3_600_000);
    setFrom(toLocalInput(start));
    setTo(toLocalInput(end));
    setCustom(true);
  };
  const a = Date.parse(from);
  const b = Date.parse(to);
  const valid = isFinite(a) && isFinite(b) && b > a;
  return (
    <div className="range-picker" role="group" aria-label="Time range">
      {range.kind === 'fixed' ? (
        <>
          <span className="range-label" title="The charts show this range of history">
            {describeRange(range)}
          </span>
          <button className="btn small primary" onClick={() => setRange(LIVE)} title="Follow live data again">
            Back to live
          </button>
        </>
      ) : (
        <div className="segmented">
          <button className={range.span === null ? 'on' : ''} onClick={() => setRange(LIVE)} aria-pressed={range.span === null} title="Each chart over its own window">
            Live
          </button>
          {PRESETS.map((p) => (
            <button key={p.label} className={range.span === p.span ? 'on' : ''} onClick={() => setRange({ kind: 'live', span: p.span })} aria-pressed={range.span === p.span} title={`Live, the last ${p.label}`}>
              {p.label}
            </button>
          ))}
        </div>
      )}
      <button className="btn small" onClick={() => (custom ? setCustom(false) : openCustom())} aria-expanded={custom}>
        Custom…
      </button>
      {custom ? (
        <form
          className="range-custom"
          onSubmit={(e) => {
            e.preventDefault();
            if (!valid) return;
            setCustom(false);
            setRange({ kind: 'fixed', from: a, to: b });
          }}
        >
          <label>
            From <input type="datetime-local" step="1" value={from} onChange={(e) => setFrom(e.target.value)} />
          </label>
          <label>
            to <input type="datetime-local" step="1" value={to} onChange={(e) => setTo(e.target.value)} />
          </label>
          <button className="btn small primary" type="submit" disabled={!valid}>
            Show
          </button>
          {!valid ? <span className="range-error">The end must come after the start.</span> : null}
        </form>
      ) : null}
    </div>
  );
}
