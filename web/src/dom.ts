// Small DOM helpers: h() builds elements, the rest are shorthands.

export type Child = Node | string | number | null | undefined | false | Child[];

type Handler = (ev: any) => void;

export interface Attrs {
  [name: string]: unknown;
  class?: string;
  on?: Record<string, Handler>;
  style?: string;
}

const svgNS = 'http://www.w3.org/2000/svg';

function apply(el: Element, attrs: Attrs | null | undefined) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v as Record<string, Handler>)) el.addEventListener(ev, fn);
    } else if (k === 'class') {
      el.setAttribute('class', String(v));
    } else if (k in el && !k.includes('-') && !(el instanceof SVGElement)) {
      (el as any)[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

function append(el: Element, children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** h builds an HTML element: h('button', {class: 'x', on: {click}}, 'Run'). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** s builds an SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(svgNS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** replace empties el and appends the children. */
export function replace(el: Element, ...children: Child[]) {
  el.replaceChildren();
  append(el, children);
}

export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number): (...a: A) => void {
  let t = 0;
  return (...a: A) => {
    clearTimeout(t);
    t = window.setTimeout(() => fn(...a), ms);
  };
}

/** coalesce returns fn to call as often as wanted: it runs once, after the current task's work. */
export function coalesce(fn: () => void): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      fn();
    });
  };
}

/** Emitter is a tiny typed event emitter. */
export class Emitter<T> {
  private fns = new Set<(v: T) => void>();
  on(fn: (v: T) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  emit(v: T) {
    for (const fn of [...this.fns]) fn(v);
  }
}

export function isMac() {
  return /Mac|iPhone|iPad/.test(navigator.platform);
}

/** modKey names the platform's command key for hints ("Ctrl" or "⌘"). */
export function modKey() {
  return isMac() ? '⌘' : 'Ctrl';
}
