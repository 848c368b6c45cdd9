// Form controls of the dashboard editor: each shows the error of the field
// it edits (by its path in lib/editor's Errors) right under it.

import { useEffect, useId, useState, type ReactNode } from 'react';
import type { Errors } from '../../lib/editor';

export function FieldError({ errors, path }: { errors: Errors; path: string }) {
  const e = errors[path];
  return e ? (
    <p className="field-error" role="alert" data-error-for={path}>
      {e}
    </p>
  ) : null;
}

export function Field({ label, path, errors, hint, children, wide }: { label: string; path?: string; errors?: Errors; hint?: ReactNode; children: (id: string, invalid: boolean) => ReactNode; wide?: boolean }) {
  const id = useId();
  const invalid = !!(path && errors?.[path]);
  return (
    <div className={`field${wide ? ' wide' : ''}${invalid ? ' invalid' : ''}`} data-field={path}>
      <label htmlFor={id}>{label}</label>
      {children(id, invalid)}
      {hint && !invalid ? <p className="field-hint">{hint}</p> : null}
      {path && errors ? <FieldError errors={errors} path={path} /> : null}
    </div>
  );
}

/** A text input that reports each change; list, for a datalist of suggestions. */
export function TextInput({ id, value, onChange, invalid, list, placeholder, mono }: { id: string; value: string; onChange: (v: string) => void; invalid: boolean; list?: string; placeholder?: string; mono?: boolean }) {
  return (
    <input
      id={id}
      className={`input${mono ? ' mono' : ''}`}
      value={value}
      list={list}
      placeholder={placeholder}
      aria-invalid={invalid || undefined}
      spellCheck={false}
      autoComplete="off"
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

/**
 * A number input: an empty box is "not set" (undefined). While the text is
 * not a number yet ("-", "1e") the last number stays.
 */
export function NumberInput({ id, value, onChange, invalid, min, max, step, placeholder }: { id: string; value: unknown; onChange: (v: number | undefined) => void; invalid: boolean; min?: number; max?: number; step?: number; placeholder?: string }) {
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => {
    if (value === undefined ? text !== '' : Number(text) !== value) setText(value === undefined ? '' : String(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value]);
  return (
    <input
      id={id}
      className="input num"
      type="number"
      value={text}
      min={min}
      max={max}
      step={step ?? 'any'}
      placeholder={placeholder}
      aria-invalid={invalid || undefined}
      onChange={(e) => {
        setText(e.target.value);
        if (e.target.value.trim() === '') onChange(undefined);
        else if (isFinite(e.target.valueAsNumber)) onChange(e.target.valueAsNumber);
      }}
    />
  );
}

export function Select({ id, value, options, onChange, invalid, none }: { id: string; value: string; options: readonly string[]; onChange: (v: string) => void; invalid: boolean; none?: string }) {
  const known = value === '' || options.includes(value);
  return (
    <select id={id} className="input" value={value} aria-invalid={invalid || undefined} onChange={(e) => onChange(e.target.value)}>
      {none !== undefined ? <option value="">{none}</option> : null}
      {!known ? <option value={value}>{value}</option> : null}
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  );
}

export function Check({ label, checked, onChange }: { label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> {label}
    </label>
  );
}

/**
 * A list of strings as chips plus a box to add one (Enter or the Add
 * button); suggestions come from a datalist (known topics, recent fields).
 */
export function ChipList({ id, values, onChange, invalid, list, placeholder, suggestions }: { id: string; values: string[]; onChange: (v: string[]) => void; invalid: boolean; list?: string; placeholder?: string; suggestions?: string[] }) {
  const [draft, setDraft] = useState('');
  const add = (v: string) => {
    const t = v.trim();
    if (t && !values.includes(t)) onChange([...values, t]);
    setDraft('');
  };
  const rest = (suggestions ?? []).filter((s) => !values.includes(s)).slice(0, 12);
  return (
    <div className="chiplist">
      {values.length ? (
        <ul className="chips">
          {values.map((v) => (
            <li key={v} className="chip-edit">
              <span>{v}</span>
              <button type="button" aria-label={`Remove ${v}`} title={`Remove ${v}`} onClick={() => onChange(values.filter((x) => x !== v))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <div className="row">
        <input
          id={id}
          className="input mono"
          value={draft}
          list={list}
          placeholder={placeholder}
          aria-invalid={invalid || undefined}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add(draft);
            } else if (e.key === 'Backspace' && draft === '' && values.length) onChange(values.slice(0, -1));
          }}
          onBlur={() => draft.trim() && add(draft)}
        />
        <button type="button" className="btn small" onClick={() => add(draft)} disabled={!draft.trim()}>
          Add
        </button>
      </div>
      {rest.length ? (
        <div className="suggest">
          {rest.map((s) => (
            <button type="button" key={s} className="chip chip-add" onClick={() => add(s)} title={`Add ${s}`}>
              + {s}
            </button>
          ))}
        </div>
      ) : null}
    </div>
  );
}
