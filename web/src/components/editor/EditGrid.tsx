// The editor's live preview: the dashboard's own grid and WidgetCards, with
// a frame on each widget to select, drag (mouse) or move with Alt+arrows,
// resize by the corner handle or Alt+Shift+arrows, duplicate and remove.

import { useEffect, useRef, useState, type Dispatch, type KeyboardEvent, type PointerEvent } from 'react';
import { span, type Widget } from '../../lib/dashboard';
import type { Action, Errors } from '../../lib/editor';
import { WidgetCard } from '../WidgetCard';

const ARROWS: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

export function EditGrid({ widgets, cols, selected, errors, dispatch, live }: { widgets: Widget[]; cols: number; selected: number | null; errors: Errors; dispatch: Dispatch<Action>; live: boolean }) {
  const grid = useRef<HTMLDivElement>(null);
  const cells = useRef<(HTMLDivElement | null)[]>([]);
  const refocus = useRef(false);
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  const [dropAt, setDropAt] = useState<number | null>(null);

  // A keyboard move re-orders the cells: keep the focus on the moved one.
  useEffect(() => {
    if (refocus.current && selected !== null) cells.current[selected]?.focus();
    refocus.current = false;
  });

  const onKey = (i: number) => (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget) return;
    const d = ARROWS[e.key];
    if (d && e.altKey) {
      e.preventDefault();
      refocus.current = true;
      if (e.shiftKey) dispatch({ type: 'resizeBy', index: i, dw: d[0], dh: d[1] });
      else dispatch({ type: 'moveBy', index: i, dx: d[0], dy: d[1], cols });
    } else if (e.key === 'Delete' && e.altKey) {
      e.preventDefault();
      dispatch({ type: 'remove', index: i });
    }
  };

  // Resize by the corner handle: whole columns and rows, one undo step per drag.
  const onResizeStart = (i: number) => (e: PointerEvent<HTMLDivElement>) => {
    const cell = cells.current[i];
    const g = grid.current;
    if (!cell || !g) return;
    e.preventDefault();
    e.stopPropagation();
    const gap = parseFloat(getComputedStyle(g).columnGap) || 0;
    const colW = (g.clientWidth - gap * (cols - 1)) / cols + gap;
    const w0 = widgets[i].w ?? 1;
    const h0 = widgets[i].h ?? 1;
    const rowH = (cell.getBoundingClientRect().height + gap) / span(widgets[i], cols).row;
    const x0 = e.clientX;
    const y0 = e.clientY;
    const key = `drag-${Date.now()}`;
    const target = e.currentTarget;
    target.setPointerCapture(e.pointerId);
    const move = (ev: globalThis.PointerEvent) => dispatch({ type: 'resize', index: i, w: w0 + Math.round((ev.clientX - x0) / colW), h: h0 + Math.round((ev.clientY - y0) / rowH), key });
    const up = () => {
      target.removeEventListener('pointermove', move);
      target.removeEventListener('pointerup', up);
      target.removeEventListener('pointercancel', up);
    };
    target.addEventListener('pointermove', move);
    target.addEventListener('pointerup', up);
    target.addEventListener('pointercancel', up);
  };

  return (
    <div ref={grid} className="grid edit-grid" style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))` }}>
      {widgets.map((w, i) => {
        const s = span(w, cols);
        // Keyed by id, so a moved widget keeps its data; an id typed twice is disambiguated.
        const key = widgets.findIndex((x) => x.id === w.id) === i ? w.id : `${w.id}#${i}`;
        const bad = Object.keys(errors).some((k) => k.startsWith(`widgets.${i}.`));
        const cls = ['cell', 'edit-cell', i === selected ? 'selected' : '', bad ? 'has-error' : '', i === dropAt && dragFrom !== i ? 'drop-target' : '', i === dragFrom ? 'dragging' : ''].filter(Boolean).join(' ');
        return (
          <div
            key={key}
            ref={(el) => {
              cells.current[i] = el;
            }}
            className={cls}
            style={{ gridColumn: `span ${s.col}`, gridRow: `span ${s.row}` }}
            tabIndex={0}
            role="group"
            aria-label={`${w.title || w.topics.join(', ') || w.id}: Alt+arrows move, Alt+Shift+arrows resize`}
            data-widget={w.id}
            draggable
            onClick={() => dispatch({ type: 'select', index: i })}
            onFocus={(e) => e.target === e.currentTarget && i !== selected && dispatch({ type: 'select', index: i })}
            onKeyDown={onKey(i)}
            onDragStart={(e) => {
              setDragFrom(i);
              e.dataTransfer.effectAllowed = 'move';
              e.dataTransfer.setData('text/plain', String(i));
            }}
            onDragOver={(e) => {
              if (dragFrom === null) return;
              e.preventDefault();
              if (dropAt !== i) setDropAt(i);
            }}
            onDragEnd={() => {
              setDragFrom(null);
              setDropAt(null);
            }}
            onDrop={(e) => {
              e.preventDefault();
              const from = Number(e.dataTransfer.getData('text/plain'));
              if (Number.isInteger(from)) dispatch({ type: 'move', from, to: i });
              setDragFrom(null);
              setDropAt(null);
            }}
          >
            {live ? <WidgetCard key={w.type + '|' + w.topics.join('|')} widget={w} /> : <section className="card" />}
            <div className="edit-shield" aria-hidden="true" />
            {/* The two tool buttons look alike (icon, label, action) on purpose. */}
            <div className="edit-tools">
              <span className="edit-size" title="Columns × rows">
                {s.col}×{s.row}
              </span>
              <button
                type="button"
                className="icon-btn"
                title="Duplicate"
                aria-label={`Duplicate ${w.id}`}
                onClick={(e) => {
                  e.stopPropagation();
                  dispatch({ type: 'duplicate', index: i });
                }}
              >
                <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true">
                  <rect x="5" y="5" width="9" height="9" rx="2" />
                  <path d="M11 5V3.5A1.5 1.5 0 0 0 9.5 2h-6A1.5 1.5 0 0 0 2 3.5v6A1.5 1.5 0 0 0 3.5 11H5" />
                </svg>
              </button>
              <button
                type="button"
                className="icon-btn danger"
                title="Remove"
                aria-label={`Remove ${w.id}`}
                onClick={(e) => {
                  e.stopPropagation();
                  dispatch({ type: 'remove', index: i });
                }}
              >
                <svg width="14" height="14" viewBox="0 0 16 16" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true">
                  <path d="M4 4l8 8M12 4l-8 8" />
                </svg>
              </button>
            </div>
            <div className="edit-resize" title="Drag to resize (or Alt+Shift+arrows)" aria-hidden="true" draggable={false} onDragStart={(e) => { e.preventDefault(); e.stopPropagation(); }} onPointerDown={onResizeStart(i)} />
          </div>
        );
      })}
    </div>
  );
}
