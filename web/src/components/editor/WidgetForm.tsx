// The form of one widget: type, title, id, topics, size, and the options of
// its type (docs/dashboards.md), each with its error under it.

import type { Dispatch } from 'react';
import type { Widget } from '../../lib/dashboard';
import { AGGS, CHART_KINDS, COLORS, FORMATS, MAX_HEIGHT, WIDGET_TYPES, widgetPath, type Action, type Errors } from '../../lib/editor';
import { Check, ChipList, Field, FieldError, NumberInput, Select, TextInput } from './controls';

const NUMBER_TYPES = ['stat', 'chart', 'gauge', 'table', 'feed'];
const FIELD_TYPES = ['stat', 'gauge', 'table'];
const FIELDS_TYPES = ['chart', 'feed', 'table'];
const THRESHOLD_TYPES = ['stat', 'gauge', 'table'];

interface Props {
  widget: Widget;
  index: number;
  columns: number;
  errors: Errors;
  dispatch: Dispatch<Action>;
  /** The known topics, for the topics datalist. */
  topicsList: string;
  /** Keys of the recent data of the widget's topics. */
  fields: string[];
}

export function WidgetForm({ widget: w, index, columns, errors, dispatch, topicsList, fields }: Props) {
  const o = w.options ?? {};
  const p = (f: string) => widgetPath(index, f);
  const set = (patch: Partial<Widget>, field: string) => dispatch({ type: 'widget', index, patch, key: `${index}.${field}` });
  const opt = (name: string, value: unknown) => dispatch({ type: 'option', index, name, value, key: `${index}.options.${name}` });
  const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : o[k] === undefined ? '' : String(o[k]));
  const fieldsList = `editor-fields-${index}`;
  const thresholds = Array.isArray(o.thresholds) ? (o.thresholds as { value?: unknown; color?: unknown }[]) : [];
  const setThreshold = (i: number, patch: Record<string, unknown>) => opt('thresholds', thresholds.map((t, j) => (j === i ? { ...t, ...patch } : t)));

  return (
    <form className="widget-form" onSubmit={(e) => e.preventDefault()} aria-label={`Widget ${w.title || w.id}`}>
      <datalist id={fieldsList}>
        {fields.map((f) => (
          <option key={f} value={f} />
        ))}
      </datalist>
      <FieldError errors={errors} path={p('unknown')} />
      <div className="form-grid">
        <Field label="Type" path={p('type')} errors={errors}>
          {(id, inv) => <Select id={id} value={w.type} options={WIDGET_TYPES} invalid={inv} onChange={(v) => set({ type: v }, 'type')} />}
        </Field>
        <Field label="Id" path={p('id')} errors={errors}>
          {(id, inv) => <TextInput id={id} value={w.id} mono invalid={inv} onChange={(v) => set({ id: v }, 'id')} />}
        </Field>
        <Field label="Title" path={p('title')} errors={errors} wide>
          {(id, inv) => <TextInput id={id} value={w.title ?? ''} placeholder="Defaults to the topics" invalid={inv} onChange={(v) => set({ title: v }, 'title')} />}
        </Field>
        <Field label="Topics" path={p('topics')} errors={errors} wide hint="Patterns: * is one segment, a final > the rest">
          {(id, inv) => <ChipList id={id} values={w.topics ?? []} list={topicsList} placeholder="shop.orders or host.*.cpu" invalid={inv} onChange={(v) => set({ topics: v }, 'topics')} />}
        </Field>
        <Field label="Width" path={p('w')} errors={errors} hint={`1–${columns} columns`}>
          {(id, inv) => <NumberInput id={id} value={w.w ?? 1} min={1} max={columns} step={1} invalid={inv} onChange={(v) => dispatch({ type: 'resize', index, w: v ?? 1, h: w.h ?? 1 })} />}
        </Field>
        <Field label="Height" path={p('h')} errors={errors} hint={`1–${MAX_HEIGHT} rows`}>
          {(id, inv) => <NumberInput id={id} value={w.h ?? 1} min={1} max={MAX_HEIGHT} step={1} invalid={inv} onChange={(v) => dispatch({ type: 'resize', index, w: w.w ?? 1, h: v ?? 1 })} />}
        </Field>
      </div>

      <h3 className="form-section">Options</h3>
      <div className="form-grid">
        {FIELD_TYPES.includes(w.type) ? (
          <Field label="Field" path={p('options.field')} errors={errors} hint={fields.length ? `Recent keys: ${fields.slice(0, 6).join(', ')}` : 'Key of object data'}>
            {(id, inv) => <TextInput id={id} value={str('field')} list={fieldsList} mono placeholder="value" invalid={inv} onChange={(v) => opt('field', v)} />}
          </Field>
        ) : null}
        {FIELDS_TYPES.includes(w.type) ? (
          <Field label="Fields" path={p('options.fields')} errors={errors} wide>
            {(id, inv) => (
              <ChipList
                id={id}
                values={Array.isArray(o.fields) ? (o.fields as string[]) : []}
                list={fieldsList}
                suggestions={fields}
                placeholder={w.type === 'chart' ? 'every numeric key' : 'the first keys'}
                invalid={inv}
                onChange={(v) => opt('fields', v)}
              />
            )}
          </Field>
        ) : null}
        {w.type === 'chart' ? (
          <>
            <Field label="Kind" path={p('options.kind')} errors={errors}>
              {(id, inv) => <Select id={id} value={str('kind')} options={CHART_KINDS} none="line (default)" invalid={inv} onChange={(v) => opt('kind', v)} />}
            </Field>
            <Field label="Window" path={p('options.window')} errors={errors} hint="30s, 5m, 1h, 1d">
              {(id, inv) => <TextInput id={id} value={str('window')} placeholder="5m" mono invalid={inv} onChange={(v) => opt('window', v)} />}
            </Field>
            <Field label="Step" path={p('options.step')} errors={errors} hint="Bucket size, e.g. 10s">
              {(id, inv) => <TextInput id={id} value={str('step')} placeholder="none" mono invalid={inv} onChange={(v) => opt('step', v)} />}
            </Field>
            <Field label="Aggregate" path={p('options.agg')} errors={errors}>
              {(id, inv) => <Select id={id} value={str('agg')} options={AGGS} none="avg (default)" invalid={inv} onChange={(v) => opt('agg', v)} />}
            </Field>
          </>
        ) : null}
        {w.type === 'chart' || w.type === 'gauge' ? (
          <>
            <Field label="Min" path={p('options.min')} errors={errors}>
              {(id, inv) => <NumberInput id={id} value={o.min} placeholder={w.type === 'gauge' ? '0' : 'fit'} invalid={inv} onChange={(v) => opt('min', v)} />}
            </Field>
            <Field label="Max" path={p('options.max')} errors={errors}>
              {(id, inv) => <NumberInput id={id} value={o.max} placeholder={w.type === 'gauge' ? '100' : 'fit'} invalid={inv} onChange={(v) => opt('max', v)} />}
            </Field>
          </>
        ) : null}
        {NUMBER_TYPES.includes(w.type) ? (
          <>
            <Field label="Format" path={p('options.format')} errors={errors}>
              {(id, inv) => <Select id={id} value={str('format')} options={FORMATS} none="number (default)" invalid={inv} onChange={(v) => opt('format', v)} />}
            </Field>
            {o.format === 'currency' ? (
              <Field label="Currency" path={p('options.currency')} errors={errors}>
                {(id, inv) => <TextInput id={id} value={str('currency')} placeholder="USD" mono invalid={inv} onChange={(v) => opt('currency', v)} />}
              </Field>
            ) : null}
            <Field label="Decimals" path={p('options.decimals')} errors={errors}>
              {(id, inv) => <NumberInput id={id} value={o.decimals} min={0} max={10} step={1} placeholder="auto" invalid={inv} onChange={(v) => opt('decimals', v)} />}
            </Field>
            <Field label="Unit" path={p('options.unit')} errors={errors}>
              {(id, inv) => <TextInput id={id} value={str('unit')} placeholder="ms, req/s, /s" invalid={inv} onChange={(v) => opt('unit', v)} />}
            </Field>
            <Field label="Scale" path={p('options.scale')} errors={errors}>
              {(id, inv) => <NumberInput id={id} value={o.scale} placeholder="×1" invalid={inv} onChange={(v) => opt('scale', v)} />}
            </Field>
          </>
        ) : null}
        {w.type === 'stat' ? (
          <>
            <Field label="Trend window" path={p('options.trend_window')} errors={errors}>
              {(id, inv) => <TextInput id={id} value={str('trend_window')} placeholder="previous value" mono invalid={inv} onChange={(v) => opt('trend_window', v)} />}
            </Field>
            <Field label="Good direction" path={p('options.good')} errors={errors}>
              {(id, inv) => <Select id={id} value={str('good')} options={['up', 'down']} none="neutral" invalid={inv} onChange={(v) => opt('good', v)} />}
            </Field>
          </>
        ) : null}
        {w.type === 'alerts' || w.type === 'feed' ? (
          <Field label="Limit" path={p('options.limit')} errors={errors} hint="1–1000, default 50">
            {(id, inv) => <NumberInput id={id} value={o.limit} min={1} max={1000} step={1} placeholder="50" invalid={inv} onChange={(v) => opt('limit', v)} />}
          </Field>
        ) : null}
        {w.type === 'feed' ? (
          <Field label="More message types" path={p('options.types')} errors={errors} wide>
            {(id, inv) => <ChipList id={id} values={Array.isArray(o.types) ? (o.types as string[]) : []} placeholder="deploy" invalid={inv} onChange={(v) => opt('types', v)} />}
          </Field>
        ) : null}
      </div>
      {NUMBER_TYPES.includes(w.type) ? (
        <div className="checks">
          <Check label="Compact (1.2K)" checked={o.compact === true} onChange={(v) => opt('compact', v || undefined)} />
          {w.type === 'stat' ? <Check label="Sparkline" checked={o.sparkline === true} onChange={(v) => opt('sparkline', v || undefined)} /> : null}
          {THRESHOLD_TYPES.includes(w.type) ? <Check label="Lower is worse (invert)" checked={o.invert === true} onChange={(v) => opt('invert', v || undefined)} /> : null}
        </div>
      ) : null}

      {THRESHOLD_TYPES.includes(w.type) ? (
        <div className={`thresholds field${errors[p('options.thresholds')] ? ' invalid' : ''}`} data-field={p('options.thresholds')}>
          <div className="thresholds-head">
            <span className="label">Thresholds</span>
            <button type="button" className="btn small" onClick={() => opt('thresholds', [...thresholds, { value: thresholds.length ? Number(thresholds[thresholds.length - 1].value ?? 0) + 10 : 80, color: thresholds.length ? 'red' : 'amber' }])}>
              Add threshold
            </button>
          </div>
          {thresholds.length === 0 ? <p className="field-hint">Colour the value when it is ≥ a threshold.</p> : null}
          {thresholds.map((t, i) => (
            <div className="threshold" key={i}>
              <span className="swatch" style={{ background: `var(--${typeof t.color === 'string' && COLORS.includes(t.color) ? t.color : 'muted'})` }} />
              <span className="muted small">{o.invert ? '≤' : '≥'}</span>
              <NumberInput id={`${p('th')}-${i}-v`} value={t.value} invalid={false} onChange={(v) => setThreshold(i, { value: v })} />
              <select className="input" aria-label={`Threshold ${i + 1} colour`} value={typeof t.color === 'string' ? t.color : ''} onChange={(e) => setThreshold(i, { color: e.target.value })}>
                {typeof t.color === 'string' && !COLORS.includes(t.color) ? <option value={t.color}>{t.color}</option> : null}
                {COLORS.map((c) => (
                  <option key={c} value={c}>
                    {c}
                  </option>
                ))}
              </select>
              <button type="button" className="icon-btn" aria-label={`Remove threshold ${i + 1}`} title="Remove" onClick={() => opt('thresholds', thresholds.filter((_, j) => j !== i))}>
                ×
              </button>
            </div>
          ))}
          {errors[p('options.thresholds')] ? (
            <p className="field-error" role="alert" data-error-for={p('options.thresholds')}>
              {errors[p('options.thresholds')]}
            </p>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
