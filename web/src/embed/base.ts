// What every livedash element shares: attributes, the shadow root, the
// page's shared connection, the history-then-live join (BackfillGate, as
// the dashboard widgets do it) and the theme.

import type { Envelope, Subscription } from 'livedash';
import { BackfillGate } from '../lib/backfill';
import { formatOptions } from '../lib/dashboard';
import type { FormatOptions } from '../lib/format';
import { acquire, release } from './pool';
import { BASE_CSS, adopt } from './style';

/** The server embed.js was loaded from: the default for `server`. */
export const SCRIPT_ORIGIN = (() => {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return location.origin;
  }
})();

const darkQuery = typeof matchMedia !== 'undefined' ? matchMedia('(prefers-color-scheme: dark)') : null;

export abstract class LivedashElement extends HTMLElement {
  static observedAttributes = ['topic', 'server', 'token', 'field', 'format', 'unit', 'decimals', 'currency', 'window', 'label', 'theme'];

  protected readonly root: ShadowRoot;
  protected readonly box: HTMLDivElement;
  protected readonly body: HTMLDivElement;
  private readonly labelEl: HTMLSpanElement;
  private readonly dot: HTMLSpanElement;
  private readonly noteEl: HTMLParagraphElement;
  private sub: Subscription | null = null;
  private offState: (() => void) | null = null;
  private using: [string, string | undefined] | null = null;
  private gate = new BackfillGate();
  private restartQueued = false;
  private running = '';
  private readonly onScheme = () => this.applyTheme();

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    adopt(this.root, BASE_CSS + this.css());
    this.box = document.createElement('div');
    this.box.className = 'root';
    this.box.setAttribute('part', 'root');
    const head = document.createElement('div');
    head.className = 'head';
    this.dot = document.createElement('span');
    this.dot.className = 'dot';
    this.labelEl = document.createElement('span');
    this.labelEl.className = 'label';
    this.labelEl.setAttribute('part', 'label');
    head.append(this.dot, this.labelEl);
    this.body = document.createElement('div');
    this.body.className = 'body';
    this.noteEl = document.createElement('p');
    this.noteEl.className = 'note';
    this.box.append(head, this.body, this.noteEl);
    this.root.append(this.box);
  }

  /** Extra CSS of the element. */
  protected css(): string {
    return '';
  }
  /** Reads what to show first (history, last values). */
  protected abstract load(server: string, token: string | undefined, topic: string): Promise<Envelope[]>;
  /** Applies messages in id order (history, then live, each once). */
  protected abstract apply(msgs: Envelope[]): void;
  /** Forgets everything shown. */
  protected abstract clear(): void;
  /** The theme changed. */
  protected themeChanged(): void {}

  connectedCallback(): void {
    darkQuery?.addEventListener('change', this.onScheme);
    this.start();
  }

  disconnectedCallback(): void {
    darkQuery?.removeEventListener('change', this.onScheme);
    this.stop();
  }

  attributeChangedCallback(name: string, old: string | null, now: string | null): void {
    if (old === now || !this.isConnected) return;
    if (name === 'theme') return this.applyTheme();
    if (name === 'label') return this.applyLabel();
    if (this.restartQueued) return;
    this.restartQueued = true;
    queueMicrotask(() => {
      this.restartQueued = false;
      // An upgrade reports every attribute, then connects: nothing changed.
      if (!this.isConnected || this.config() === this.running) return;
      this.stop();
      this.start();
    });
  }

  get theme(): 'light' | 'dark' {
    const t = this.getAttribute('theme');
    if (t === 'light' || t === 'dark') return t;
    return darkQuery?.matches ? 'dark' : 'light';
  }

  protected get topic(): string {
    return (this.getAttribute('topic') ?? '').trim();
  }

  protected attr(name: string): string | undefined {
    const v = this.getAttribute(name);
    return v === null || v === '' ? undefined : v;
  }

  protected get fmt(): FormatOptions {
    const decimals = this.attr('decimals');
    return formatOptions({ format: this.attr('format'), unit: this.attr('unit'), currency: this.attr('currency'), decimals: decimals === undefined ? undefined : Number(decimals) });
  }

  protected note(text: string, error = false): void {
    this.noteEl.textContent = text;
    this.noteEl.classList.toggle('error', error);
  }

  private applyTheme(): void {
    this.box.classList.toggle('dark', this.theme === 'dark');
    this.themeChanged();
  }

  private applyLabel(): void {
    this.labelEl.textContent = this.attr('label') ?? this.topic;
  }

  /** What a running element depends on: a change of it restarts the element. */
  private config(): string {
    return ['topic', 'server', 'token', 'field', 'format', 'unit', 'decimals', 'currency', 'window'].map((a) => this.getAttribute(a)).join('\n');
  }

  private start(): void {
    this.running = this.config();
    this.applyTheme();
    this.applyLabel();
    const topic = this.topic;
    if (!topic) {
      this.note('livedash: the topic attribute is required', true);
      return;
    }
    const server = (this.attr('server') ?? SCRIPT_ORIGIN).replace(/\/+$/, '');
    const token = this.attr('token');
    const client = acquire(server, token);
    this.using = [server, token];
    const showState = () => {
      this.dot.className = `dot ${client.state}`;
      this.dot.title = client.reason ? `${client.state}: ${client.reason}` : client.state;
      this.setAttribute('state', client.state);
      if (client.state === 'closed' && client.reason !== 'closed by the client') this.note(client.reason, true);
    };
    this.offState = client.on('state', showState);
    showState();
    // Subscribe first, then read history: what is published in between
    // arrives on the stream and is held until history is in.
    this.sub = client.subscribe(topic, {
      backlog: 0,
      onMessage: (m) => {
        const x = this.gate.live(m);
        if (x) this.apply([x]);
      },
      onReset: () => this.backfill(server, token, topic),
    });
    this.backfill(server, token, topic);
  }

  private backfill(server: string, token: string | undefined, topic: string): void {
    this.clear();
    const gen = this.gate.begin();
    this.note('Loading…');
    this.load(server, token, topic).then(
      (msgs) => {
        const out = this.gate.history(gen, msgs);
        if (!out) return;
        this.note('');
        this.apply(out);
      },
      (e: Error) => {
        this.gate.history(gen, []); // go live anyway
        this.note(`livedash: ${e.message}`, true);
      },
    );
  }

  private stop(): void {
    this.running = '';
    this.sub?.unsubscribe();
    this.sub = null;
    this.offState?.();
    this.offState = null;
    if (this.using) release(...this.using);
    this.using = null;
  }
}

export function timeOf(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
