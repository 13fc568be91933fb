// The Sluice console: the page's layout, the websockets, and the start.
import './styles.css';
import * as actions from './actions';
import * as api from './api';
import type { CountersMessage, ProgramMessage } from './api';
import { mountCenter } from './center';
import { h } from './dom';
import * as editor from './editor';
import { mountHeader } from './header';
import { mountLog } from './log';
import { mountPanel } from './panel';
import { mountSidebar } from './sidebar';
import { emit, onNavigate, store, workingFiles } from './state';
import { sample, started } from './status';
import * as tutorials from './tutorials';

// ---------------------------------------------------------------------------
// Layout: the sidebar, the editor, the right panel and the log, with
// splitters between them (sizes kept in localStorage).

interface Size {
  v: string; // CSS variable
  min: number;
  max: () => number;
  def: number;
  axis: 'x' | 'y';
  sign: 1 | -1; // +1: dragging right/down grows it
  label: string;
}

const sizes: Record<string, Size> = {
  side: { v: '--side-w', min: 180, max: () => innerWidth * 0.4, def: 272, axis: 'x', sign: 1, label: 'Resize the sidebar' },
  right: { v: '--right-w', min: 260, max: () => innerWidth * 0.6, def: 400, axis: 'x', sign: -1, label: 'Resize the panel' },
  log: { v: '--log-h', min: 80, max: () => innerHeight * 0.7, def: 200, axis: 'y', sign: -1, label: 'Resize the log' },
};

function splitter(name: string, app: HTMLElement) {
  const sz = sizes[name];
  const get = () => parseFloat(getComputedStyle(app).getPropertyValue(sz.v)) || sz.def;
  const set = (px: number) => {
    const v = Math.round(Math.min(Math.max(px, sz.min), sz.max()));
    app.style.setProperty(sz.v, `${v}px`);
    el.setAttribute('aria-valuenow', String(v));
    localStorage.setItem(`sluice.size.${name}`, String(v));
  };
  const el = h('div', {
    class: `split ${sz.axis === 'x' ? 'split-x' : 'split-y'} split-${name}`,
    role: 'separator',
    tabindex: 0,
    'aria-label': sz.label,
    'aria-orientation': sz.axis === 'x' ? 'vertical' : 'horizontal',
    'aria-valuemin': sz.min,
  });
  el.addEventListener('pointerdown', (e: PointerEvent) => {
    e.preventDefault();
    el.setPointerCapture(e.pointerId);
    const start = sz.axis === 'x' ? e.clientX : e.clientY;
    const from = get();
    app.classList.add('resizing');
    const move = (ev: PointerEvent) => set(from + sz.sign * ((sz.axis === 'x' ? ev.clientX : ev.clientY) - start));
    const up = () => {
      el.removeEventListener('pointermove', move);
      el.removeEventListener('pointerup', up);
      app.classList.remove('resizing');
    };
    el.addEventListener('pointermove', move);
    el.addEventListener('pointerup', up);
  });
  el.addEventListener('keydown', (e: KeyboardEvent) => {
    const step = e.shiftKey ? 48 : 16;
    const grow = sz.axis === 'x' ? (sz.sign > 0 ? 'ArrowRight' : 'ArrowLeft') : 'ArrowUp';
    const shrink = sz.axis === 'x' ? (sz.sign > 0 ? 'ArrowLeft' : 'ArrowRight') : 'ArrowDown';
    if (e.key === grow) set(get() + step);
    else if (e.key === shrink) set(get() - step);
    else return;
    e.preventDefault();
  });
  const saved = Number(localStorage.getItem(`sluice.size.${name}`));
  if (saved) app.style.setProperty(sz.v, `${saved}px`);
  return el;
}

function layout() {
  const app = document.getElementById('app')!;
  app.className = 'app';
  const top = h('header', { class: 'topbar' });
  const side = h('aside', { class: 'side', 'aria-label': 'Sidebar', id: 'sidebar' });
  const center = h('main', { class: 'center', 'aria-label': 'Editor' });
  const right = h('aside', { class: 'right', 'aria-label': 'Diagram, status and guide' });
  const log = h('section', { class: 'log', 'aria-label': 'Log' });
  const scrim = h('div', { class: 'scrim', on: { click: () => app.classList.remove('menu-open') } });
  app.append(
    top,
    side,
    splitter('side', app),
    center,
    splitter('right', app),
    right,
    splitter('log', app),
    log,
    scrim,
  );
  mountHeader(top, () => app.classList.toggle('menu-open'));
  mountSidebar(side);
  mountCenter(center);
  mountPanel(right);
  mountLog(log);
  // In a narrow window the sidebar is a drawer: close it once something is chosen.
  side.addEventListener('click', (e) => {
    const t = e.target as HTMLElement;
    if (t.closest('.row-main:not([aria-expanded]), .step, .card')) app.classList.remove('menu-open');
  });
  addEventListener('keydown', (e) => {
    if (e.key === 'Escape') app.classList.remove('menu-open');
  });
}

// ---------------------------------------------------------------------------
// Streams

function connectStatus() {
  let opened = false;
  new api.Stream(
    '/api/v1/status/stream',
    (data) => {
      const msg = JSON.parse(data) as ProgramMessage | CountersMessage;
      if (msg.type === 'program') {
        if (store.program && msg.running && msg.generation !== store.program.generation) started(msg.generation);
        store.program = msg;
        emit('program');
      } else if (msg.type === 'counters') {
        store.counters = msg.counters;
        emit('counters');
      }
    },
    (connected) => {
      store.connected = connected;
      emit('connection');
    },
    () => {
      if (opened) void actions.refreshList(); // the console may have restarted
      opened = true;
    },
  );
}

// ---------------------------------------------------------------------------

async function start() {
  performance.mark('sluice-start');
  // Ask for the codebases first: the answer comes while the page is laid out.
  const list = api.listCodebases();
  list.catch(() => {}); // refreshList reports it
  const description = api.apiDescription();
  description.catch(() => {});
  layout();
  performance.mark('sluice-layout');
  store.connected = true;
  connectStatus();
  onNavigate(() => void actions.openRoute());
  addEventListener('popstate', () => void actions.openRoute());
  addEventListener('keydown', (e) => {
    // The editor handles its own Ctrl+S (and prevents the default).
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's' && !e.defaultPrevented) {
      e.preventDefault();
      void actions.save();
    }
  });
  addEventListener('beforeunload', (e) => {
    if (store.dirty.size) {
      e.preventDefault();
      e.returnValue = '';
    }
  });
  addEventListener('focus', async () => {
    await actions.refreshInfo();
    if (store.cb && store.info) await editor.revalidate(store.cb, new Set(workingFiles(store.info)));
  });
  setInterval(() => {
    sample();
    emit('counters');
  }, 1000);
  description
    .then((d) => {
      store.api = d;
      emit('api');
    })
    .catch((e) => actions.report(e, 'Reading the scripting API'));
  await Promise.all([actions.refreshList(list), actions.openRoute()]);
  performance.mark('sluice-ready');
  document.documentElement.dataset.ready = 'true';
  tutorials.loadMetas();
}

void start();
