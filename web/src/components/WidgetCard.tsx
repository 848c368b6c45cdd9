import { Component, type ReactNode } from 'react';
import type { Widget } from '../lib/dashboard';
import { AlertsWidget } from './widgets/AlertsWidget';
import { ChartWidget } from './widgets/ChartWidget';
import { FeedWidget } from './widgets/FeedWidget';
import { GaugeWidget } from './widgets/GaugeWidget';
import { RawWidget } from './widgets/RawWidget';
import { StatWidget } from './widgets/StatWidget';
import { TableWidget } from './widgets/TableWidget';

function body(w: Widget): ReactNode {
  switch (w.type) {
    case 'stat':
      return <StatWidget widget={w} />;
    case 'chart':
      return <ChartWidget widget={w} />;
    case 'alerts':
      return <AlertsWidget widget={w} />;
    case 'feed':
      return <FeedWidget widget={w} />;
    case 'table':
      return <TableWidget widget={w} />;
    case 'gauge':
      return <GaugeWidget widget={w} />;
    case 'raw': // explore only: messages of types no widget knows
      return <RawWidget widget={w} />;
  }
  return <p className="muted small">Unknown widget type “{w.type}”.</p>;
}

/** A card holding one widget; a widget that throws shows an error instead of blanking the page. */
export function WidgetCard({ widget, badge }: { widget: Widget; badge?: ReactNode }) {
  return (
    <section className={`card card-${widget.type}`} aria-label={widget.title || widget.id}>
      <header className="card-head">
        <h2 className="card-title" title={widget.topics.join(', ')}>
          {widget.title || widget.topics.join(', ')}
        </h2>
        {badge}
      </header>
      <Boundary>{body(widget)}</Boundary>
    </section>
  );
}

class Boundary extends Component<{ children: ReactNode }, { error: string | null }> {
  state = { error: null as string | null };
  static getDerivedStateFromError(e: unknown) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  render() {
    if (this.state.error) return <p className="widget-error">This widget failed: {this.state.error}</p>;
    return this.props.children;
  }
}
