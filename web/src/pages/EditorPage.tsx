// The dashboard editor (/new, /d/{name}/edit), for admin tokens: the live
// grid of the dashboard being edited, a form for the selected widget, undo
// and redo, an advanced JSON mode, and save with PUT /api/v1/dashboards/{name}.
// The state is lib/editor's reducer; the server has the last word (its 400
// message is shown on the field it names, 403 and 409 explained).

import { useEffect, useMemo, useReducer, useRef, useState, type Dispatch } from 'react';
import { api, ApiError, type TopicInfo } from '../api/api';
import { EditGrid } from '../components/editor/EditGrid';
import { Field, FieldError, NumberInput, TextInput } from '../components/editor/controls';
import { WidgetForm } from '../components/editor/WidgetForm';
import { Header } from '../components/Header';
import { StreamContext, useSize } from '../components/hooks';
import { Link } from '../components/Link';
import { useDashboardStream } from '../components/useDashboardStream';
import { columnsFor, type Dashboard } from '../lib/dashboard';
import { columnsOf, editorReducer, emptyDashboard, fieldsOf, initEditor, isAdminToken, mapServerError, MAX_COLUMNS, toSave, validate, WIDGET_TYPES, type Action, type EditorState, type Errors } from '../lib/editor';
import { matchAny } from '../lib/pattern';
import { dashboardPath, editPath, navigate } from '../lib/route';
import { getToken } from '../lib/token';

const TOPICS_LIST = 'editor-topics';

export function EditorPage({ name }: { name: string | null }) {
  const admin = isAdminToken(getToken());
  const [loadErr, setLoadErr] = useState<ApiError | null>(null);
  const [loaded, setLoaded] = useState(name === null);
  const [readOnly, setReadOnly] = useState(false);
  const [state, dispatch] = useReducer(editorReducer, null, () => initEditor(emptyDashboard()));

  useEffect(() => {
    if (name === null || !admin) return;
    let alive = true;
    api.dashboardIfChanged(name, '').then(
      (r) => {
        if (!alive || !r) return;
        dispatch({ type: 'load', doc: r.dash });
        setReadOnly(!!r.readOnly);
        setLoaded(true);
      },
      (e) => alive && setLoadErr(e instanceof ApiError ? e : new ApiError(0, String(e))),
    );
    return () => {
      alive = false;
    };
  }, [name, admin]);

  useEffect(() => {
    document.title = `${name === null ? 'New dashboard' : `Edit ${name}`} · livedash`;
  }, [name]);

  if (!admin) {
    return (
      <>
        <Header title={name === null ? 'New dashboard' : name} />
        <main className="page">
          <div className="panel center-panel">
            <h2>Editing dashboards needs an admin token</h2>
            <p className="muted">
              Open this page with <code>?token=</code> and a token made with <code>livedash token --sub you --admin</code>.
            </p>
            {name !== null ? <Link to={dashboardPath(name)}>Back to the dashboard</Link> : <Link to="/">All dashboards</Link>}
          </div>
        </main>
      </>
    );
  }
  if (loadErr) {
    if (loadErr.status === 401) return null; // the sign-in panel takes over
    return (
      <>
        <Header title={name ?? ''} />
        <main className="page">
          <div className="panel center-panel">
            <h2>{loadErr.status === 404 ? `No dashboard named “${name}”` : 'This dashboard could not be loaded'}</h2>
            <p className="muted">{loadErr.message}</p>
            <Link to={editPath(null)}>Make a new dashboard</Link>
          </div>
        </main>
      </>
    );
  }
  if (!loaded) {
    return (
      <>
        <Header title={name ?? ''} />
        <main className="page">
          <div className="loading-page">Loading dashboard…</div>
        </main>
      </>
    );
  }
  return <Editor initialName={name} initialReadOnly={readOnly} state={state} dispatch={dispatch} />;
}

type EditorProps = { initialName: string | null; initialReadOnly: boolean; state: EditorState; dispatch: Dispatch<Action> };

function Editor({ initialName, initialReadOnly, state, dispatch }: EditorProps) {
  const { doc, selected } = state;
  // The name the dashboard is saved under; null until a new one is first saved.
  const [savedName, setSavedName] = useState<string | null>(initialName);
  const [readOnly, setReadOnly] = useState(initialReadOnly);
  const [copyName, setCopyName] = useState(initialReadOnly && initialName ? `${initialName}-copy` : '');
  const [mode, setMode] = useState<'visual' | 'json'>('visual');
  const [attempted, setAttempted] = useState(false);
  const [serverErr, setServerErr] = useState<{ path: string; message: string } | null>(null);
  const [banner, setBanner] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [savedDoc, setSavedDoc] = useState<Dashboard | null>(initialName === null ? null : doc);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const [topics, setTopics] = useState<TopicInfo[]>([]);
  const [gridRef, size] = useSize<HTMLDivElement>();
  const isNew = savedName === null;

  const stream = useDashboardStream(doc.widgets);

  // Known topics for the autocomplete, and their last data for field names.
  useEffect(() => {
    let alive = true;
    const load = () =>
      api.topics().then(
        (t) => alive && setTopics(t),
        () => {},
      );
    load();
    const timer = setInterval(load, 10_000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);

  // A new edit makes the server's last verdict stale.
  const firstDoc = useRef(doc);
  useEffect(() => {
    if (doc === firstDoc.current) return;
    setServerErr(null);
    if (banner?.kind === 'ok') setBanner(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [doc]);

  // Ctrl+Z / Ctrl+Shift+Z (or Ctrl+Y) anywhere but in a text box, which has its own undo.
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey)) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
      const k = e.key.toLowerCase();
      if (k === 'z' || k === 'y') {
        e.preventDefault();
        dispatch({ type: (k === 'z' && !e.shiftKey) ? 'undo' : 'redo' });
      }
    };
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  }, [dispatch]);

  const docForCheck = useMemo(() => ({ ...doc, name: isNew ? doc.name : savedName! }), [doc, isNew, savedName]);
  const allErrors = useMemo(() => validate(docForCheck), [docForCheck]);
  // Before the first save, a field that is only still empty is not an error yet.
  const errors: Errors = useMemo(() => {
    const out: Errors = {};
    for (const [k, v] of Object.entries(allErrors)) {
      const m = /^widgets\.(\d+)\.topics$/.exec(k);
      const empty = (k === 'name' && !doc.name) || (m && (doc.widgets[Number(m[1])]?.topics ?? []).length === 0);
      if (attempted || !empty) out[k] = v;
    }
    if (serverErr) out[serverErr.path] = serverErr.message;
    return out;
  }, [allErrors, attempted, serverErr, doc]);
  const problemCount = Object.keys(errors).length;
  const dirty = savedDoc === null || JSON.stringify(savedDoc) !== JSON.stringify(doc);

  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (dirty) e.preventDefault();
    };
    // In-app links (header, View) navigate without a page load: ask first.
    const click = (e: MouseEvent) => {
      const a = (e.target as Element | null)?.closest?.('a[href]');
      if (!dirty || !a || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      if (!confirm('Leave the editor? Your changes are not saved.')) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    addEventListener('beforeunload', warn);
    document.addEventListener('click', click, true);
    return () => {
      removeEventListener('beforeunload', warn);
      document.removeEventListener('click', click, true);
    };
  }, [dirty]);

  const save = async (asName?: string): Promise<boolean> => {
    setAttempted(true);
    setBanner(null);
    const target = asName ?? (isNew ? doc.name : savedName!);
    const errs = validate({ ...doc, name: target });
    if (Object.keys(errs).length) {
      // The copy's name is typed in the read-only notice: show its error there.
      if (asName !== undefined && errs.name) setServerErr({ path: 'copyName', message: errs.name });
      const n = Object.keys(errs).length;
      setBanner({ kind: 'error', text: `Not saved: fix ${n === 1 ? '1 problem' : `${n} problems`} marked below.` });
      if (asName === undefined && mode === 'visual') {
        const first = Object.keys(errs)[0];
        const m = /^widgets\.(\d+)\./.exec(first);
        if (m) dispatch({ type: 'select', index: Number(m[1]) });
      }
      return false;
    }
    setSaving(true);
    try {
      if (asName !== undefined || isNew) {
        // A new name must not overwrite a dashboard that exists.
        const exists = (await api.dashboards()).some((d) => d.name === target);
        if (exists) {
          setServerErr({ path: asName !== undefined ? 'copyName' : 'name', message: `a dashboard named “${target}” already exists; choose another name` });
          setBanner({ kind: 'error', text: 'Not saved: that name is taken.' });
          return false;
        }
      }
      const out = await api.putDashboard(toSave({ ...doc, name: target }));
      setSavedDoc(doc);
      setSavedName(target);
      setReadOnly(false);
      setAttempted(false);
      if (target !== savedName) history.replaceState(null, '', editPath(target));
      setBanner({ kind: 'ok', text: `Saved “${out.title || target}”.` });
      return true;
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, String(e));
      if (err.status === 400) {
        const m = mapServerError(err.message);
        setServerErr(m);
        if (mode === 'visual') {
          const w = /^widgets\.(\d+)\./.exec(m.path);
          if (w) dispatch({ type: 'select', index: Number(w[1]) });
        }
        setBanner({ kind: 'error', text: `Not saved: ${err.message}` });
      } else if (err.status === 409) {
        setReadOnly(true);
        setCopyName(`${target}-copy`);
        setBanner(null);
      } else if (err.status === 403) {
        setBanner({ kind: 'error', text: 'Not saved: the server says this token may not change dashboards (an admin token is required).' });
      } else if (err.status !== 401) {
        setBanner({ kind: 'error', text: `Not saved: ${err.message}` });
      }
    } finally {
      setSaving(false);
    }
    return false;
  };

  // Rename: the dashboard under its new name, then the old one removed, so
  // a failure on the way leaves a copy rather than nothing.
  const rename = async () => {
    const old = savedName;
    if (!old || !(await save(copyName))) return;
    try {
      await api.deleteDashboard(old);
      setRenaming(false);
      setBanner({ kind: 'ok', text: `Renamed “${old}” to “${copyName}”.` });
    } catch (e) {
      setBanner({ kind: 'error', text: `Saved as “${copyName}”, but “${old}” could not be removed: ${e instanceof Error ? e.message : String(e)}` });
    }
  };

  const remove = async () => {
    if (!savedName) return;
    try {
      await api.deleteDashboard(savedName);
      setSavedDoc(doc); // nothing left unsaved
      navigate('/');
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(0, String(e));
      setConfirmDelete(false);
      if (err.status === 409) setReadOnly(true);
      else setBanner({ kind: 'error', text: `Not deleted: ${err.message}` });
    }
  };

  // The columns the dashboard page would have in this window, so the preview
  // has its layout; fewer only when the canvas is too narrow for them.
  const canvas = size.width || window.innerWidth - 400;
  const cols = Math.max(1, Math.min(columnsFor(window.innerWidth, columnsOf(doc)), Math.floor(canvas / 110)));
  const sel = selected !== null ? doc.widgets[selected] : undefined;
  const selFields = useMemo(() => {
    if (!sel) return [];
    const pats = sel.topics ?? [];
    return fieldsOf(topics.filter((t) => matchAny(pats, t.topic)).map((t) => t.last?.data));
  }, [sel, topics]);

  return (
    <StreamContext.Provider value={stream}>
      <Header title={isNew ? 'New dashboard' : `Edit · ${doc.title || savedName}`} stream={stream}>
        <div className="editor-tools">
          <div className="segmented" role="group" aria-label="Undo and redo">
            <button type="button" onClick={() => dispatch({ type: 'undo' })} disabled={state.past.length === 0} title="Undo (Ctrl+Z)">
              Undo
            </button>
            <button type="button" onClick={() => dispatch({ type: 'redo' })} disabled={state.future.length === 0} title="Redo (Ctrl+Shift+Z)">
              Redo
            </button>
          </div>
          <div className="segmented" role="group" aria-label="Editor mode">
            <button type="button" className={mode === 'visual' ? 'on' : ''} aria-pressed={mode === 'visual'} onClick={() => setMode('visual')}>
              Visual
            </button>
            <button type="button" className={mode === 'json' ? 'on' : ''} aria-pressed={mode === 'json'} onClick={() => setMode('json')}>
              JSON
            </button>
          </div>
          {!isNew ? (
            <Link to={dashboardPath(savedName!)} className="btn small">
              View
            </Link>
          ) : null}
          {!isNew && !readOnly ? (
            confirmDelete ? (
              <span className="confirm" role="alertdialog" aria-label="Confirm delete">
                <span>Delete “{savedName}”?</span>
                <button type="button" className="btn small danger" onClick={remove}>
                  Delete
                </button>
                <button type="button" className="btn small" onClick={() => setConfirmDelete(false)}>
                  Cancel
                </button>
              </span>
            ) : (
              <>
                <button
                  type="button"
                  className="btn small"
                  aria-expanded={renaming}
                  onClick={() => {
                    setCopyName(savedName ?? '');
                    setServerErr(null);
                    setRenaming(!renaming);
                  }}
                >
                  Rename…
                </button>
                <button type="button" className="btn small" onClick={() => setConfirmDelete(true)}>
                  Delete…
                </button>
              </>
            )
          ) : null}
          {!readOnly ? (
            <button type="button" className="btn small primary" onClick={() => save()} disabled={saving || (!dirty && !isNew)}>
              {saving ? 'Saving…' : dirty || isNew ? 'Save' : 'Saved'}
            </button>
          ) : null}
        </div>
      </Header>
      <main className="page editor">
        {readOnly ? (
          <div className="notice warn" role="status">
            <div>
              <strong>“{savedName}” is read-only here:</strong> it is defined in a file or built in. Copy to edit: save it as a new dashboard.
            </div>
            <div className="notice-row">
              <Field label="New name" path="copyName" errors={errors}>
                {(id, inv) => <TextInput id={id} value={copyName} mono invalid={inv} onChange={(v) => { setCopyName(v); setServerErr(null); }} />}
              </Field>
              <button type="button" className="btn primary" onClick={() => save(copyName)} disabled={saving}>
                Save copy
              </button>
            </div>
          </div>
        ) : null}
        {renaming && !readOnly ? (
          <div className="notice" role="group" aria-label="Rename">
            <div>
              Rename “{savedName}”: its address becomes <code>/d/{copyName || '…'}</code>. Links to the old name stop working.
            </div>
            <div className="notice-row">
              <Field label="New name" path="copyName" errors={errors}>
                {(id, inv) => <TextInput id={id} value={copyName} mono invalid={inv} onChange={(v) => { setCopyName(v); setServerErr(null); }} />}
              </Field>
              <button type="button" className="btn primary" onClick={rename} disabled={saving || !copyName || copyName === savedName}>
                Rename
              </button>
            </div>
          </div>
        ) : null}
        {banner ? (
          <div className={`notice ${banner.kind === 'ok' ? 'ok' : 'bad'}`} role={banner.kind === 'ok' ? 'status' : 'alert'}>
            {banner.text}
            {banner.kind === 'ok' && savedName ? (
              <>
                {' '}
                <Link to={dashboardPath(savedName)}>Open the dashboard</Link>
              </>
            ) : null}
          </div>
        ) : null}
        {errors.dashboard ? <FieldError errors={errors} path="dashboard" /> : null}

        <div className="panel editor-bar">
          {isNew ? (
            <Field label="Name (in the URL)" path="name" errors={errors} hint="A-Z a-z 0-9 _ -">
              {(id, inv) => <TextInput id={id} value={doc.name} mono placeholder="orders" invalid={inv} onChange={(v) => dispatch({ type: 'replace', doc: { ...doc, name: v }, key: 'name' })} />}
            </Field>
          ) : null}
          <Field label="Title" path="title" errors={errors} wide>
            {(id, inv) => <TextInput id={id} value={doc.title} placeholder={doc.name || 'Orders'} invalid={inv} onChange={(v) => dispatch({ type: 'title', title: v })} />}
          </Field>
          <Field label="Columns" path="columns" errors={errors}>
            {(id, inv) => <NumberInput id={id} value={columnsOf(doc)} min={1} max={MAX_COLUMNS} step={1} invalid={inv} onChange={(v) => v !== undefined && dispatch({ type: 'columns', columns: v })} />}
          </Field>
          <div className="add-widget" role="group" aria-label="Add a widget">
            <span className="label">Add widget</span>
            <div className="add-buttons">
              {WIDGET_TYPES.map((t) => (
                <button key={t} type="button" className="btn small" onClick={() => dispatch({ type: 'add', widgetType: t })}>
                  + {t}
                </button>
              ))}
            </div>
          </div>
        </div>
        <FieldError errors={errors} path="widgets" />

        <datalist id={TOPICS_LIST}>
          {topics.slice(0, 500).map((t) => (
            <option key={t.topic} value={t.topic} />
          ))}
        </datalist>

        {mode === 'json' ? (
          <JsonEditor doc={docForCheck} errors={allErrors} serverErr={serverErr} isNew={isNew} onChange={(d) => dispatch({ type: 'replace', doc: isNew ? d : { ...d, name: savedName! }, key: 'json' })} />
        ) : (
          <div className="editor-body">
            <div className="editor-canvas" ref={gridRef}>
              {doc.widgets.length === 0 ? (
                <div className="panel editor-empty">
                  <h2>No widgets yet</h2>
                  <p className="muted">Add one with the buttons above, then give it a topic. Widgets show live data as you edit.</p>
                </div>
              ) : (
                <EditGrid widgets={doc.widgets} cols={cols} selected={selected} errors={errors} dispatch={dispatch} live={stream !== null} />
              )}
              <p className="muted small editor-help">
                Click a widget to edit it. Drag it to move it, drag its corner to resize. Keyboard: focus a widget (Tab), then Alt+arrows move it, Alt+Shift+arrows resize it, Alt+Delete removes it. Ctrl+Z undoes.
              </p>
            </div>
            <aside className="panel editor-side" aria-label="Widget settings">
              {sel && selected !== null ? (
                <>
                  <div className="side-head">
                    <h2>{sel.title || sel.topics.join(', ') || sel.id}</h2>
                    <span className="chip">{sel.type}</span>
                  </div>
                  <WidgetForm key={selected} widget={sel} index={selected} columns={columnsOf(doc)} errors={errors} dispatch={dispatch} topicsList={TOPICS_LIST} fields={selFields} />
                </>
              ) : (
                <div className="side-empty">
                  <h2>Widget settings</h2>
                  <p className="muted">Select a widget to choose its type, topics and options.</p>
                  {problemCount ? <p className="field-error">{problemCount === 1 ? '1 problem' : `${problemCount} problems`} to fix before saving.</p> : null}
                </div>
              )}
            </aside>
          </div>
        )}
      </main>
    </StreamContext.Provider>
  );
}

/** The advanced mode: the document as JSON, checked as it is typed with the same rules. */
function JsonEditor({ doc, errors, serverErr, isNew, onChange }: { doc: Dashboard; errors: Errors; serverErr: { path: string; message: string } | null; isNew: boolean; onChange: (d: Dashboard) => void }) {
  const [text, setText] = useState(() => JSON.stringify(doc, null, 2));
  const [parseErr, setParseErr] = useState<string | null>(null);
  const last = useRef(doc);
  // An undo (or any change from outside) rewrites the text.
  useEffect(() => {
    if (doc !== last.current) {
      last.current = doc;
      setText(JSON.stringify(doc, null, 2));
      setParseErr(null);
    }
  }, [doc]);
  const all = { ...errors, ...(serverErr ? { [serverErr.path]: serverErr.message } : {}) };
  const list = Object.entries(all);
  return (
    <div className="json-editor">
      <textarea
        className="input mono json-text"
        aria-label="Dashboard JSON"
        aria-invalid={parseErr !== null || list.length > 0 || undefined}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          let d: unknown;
          try {
            d = JSON.parse(e.target.value);
          } catch (err) {
            setParseErr(err instanceof Error ? err.message : String(err));
            return;
          }
          if (!d || typeof d !== 'object' || Array.isArray(d)) {
            setParseErr('the document must be a JSON object');
            return;
          }
          setParseErr(null);
          const next = { title: '', ...d, widgets: Array.isArray((d as Dashboard).widgets) ? (d as Dashboard).widgets : [] } as Dashboard;
          last.current = next;
          onChange(next);
        }}
      />
      <div className="json-status" role="status">
        {parseErr ? <p className="field-error">JSON: {parseErr}</p> : null}
        {list.length === 0 && !parseErr ? <p className="field-ok">Valid: {doc.widgets.length} widgets.</p> : null}
        {list.length ? (
          <ul className="json-errors">
            {list.map(([k, v]) => (
              <li key={k} className="field-error" data-error-for={k}>
                <code>{k}</code> {v}
              </li>
            ))}
          </ul>
        ) : null}
        <p className="muted small">{isNew ? 'The name is the one in the document.' : 'The name stays the one in the URL; widgets, title and columns are yours.'} JSON only (no YAML here: a YAML file goes in dashboards_dir).</p>
      </div>
    </div>
  );
}
