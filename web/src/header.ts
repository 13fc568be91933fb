// The top bar: where you are, what runs (always visible), Run/Stop/Restart.
import * as actions from './actions';
import { coalesce, h, replace } from './dom';
import { icon } from './icons';
import { navigate, on, store } from './state';

let crumbs: HTMLElement;
let state: HTMLElement;
let runBtn: HTMLButtonElement;
let stopBtn: HTMLButtonElement;
let restartBtn: HTMLButtonElement;
let live: HTMLElement;
let lastAnnounced = '';

function render() {
  const cb = store.cb;
  const file = store.file;
  const dirty = cb && file && store.dirty.has(`${cb}\n${file}`);
  document.title = cb
    ? `${dirty ? '● ' : ''}${file ? file.split('/').pop() + ' — ' : ''}${cb} — Sluice`
    : 'Sluice console';
  replace(
    crumbs,
    h(
      'a',
      {
        href: '/',
        class: 'crumb',
        on: { click: (e: MouseEvent) => (e.preventDefault(), navigate({ cb: null, file: null })) },
      },
      'Codebases',
    ),
    cb && h('span', { class: 'sep', 'aria-hidden': 'true' }, '/'),
    cb && h('span', { class: 'crumb current', title: cb }, cb),
    cb && store.info && h('span', { class: 'badge' }, `v${store.info.version}`),
  );
  const p = store.program;
  const running = !!p?.running;
  let text: string;
  if (!store.connected) {
    text = 'Disconnected';
    replace(state, h('span', { class: 'dot err' }), h('span', null, 'Console unreachable'));
    state.className = 'run-state disconnected';
  } else if (running) {
    text = `Running ${p!.codebase}`;
    replace(
      state,
      h('span', { class: 'dot running' }),
      h('span', null, 'Running '),
      h(
        'a',
        {
          href: `/repo${p!.codebase}/`,
          class: 'run-cb',
          on: { click: (e: MouseEvent) => (e.preventDefault(), actions.openCodebase(p!.codebase)) },
        },
        p!.codebase,
      ),
      h('span', { class: 'muted' }, ` v${p!.version}`),
      store.counters?.listeners.length
        ? h('span', { class: 'muted' }, ` · ${store.counters.listeners.map((l) => l.replace(/^.*:/, ':')).join(' ')}`)
        : null,
    );
    state.className = 'run-state running';
  } else {
    text = 'Stopped';
    replace(state, h('span', { class: 'dot' }), h('span', null, 'Stopped'));
    state.className = 'run-state stopped';
  }
  state.title = text;
  if (text !== lastAnnounced) {
    live.textContent = text;
    lastAnnounced = text;
  }
  runBtn.disabled = !cb || !store.info?.main;
  runBtn.title = cb
    ? running && p!.codebase === cb
      ? `Run ${cb} again with your latest changes`
      : `Run ${cb}${running ? ` (stops ${p!.codebase})` : ''}`
    : 'Open a codebase to run it';
  stopBtn.disabled = !running;
  restartBtn.disabled = !running;
  restartBtn.title = running ? `Restart ${p!.codebase}` : 'Nothing runs';
}

export function mountHeader(el: HTMLElement, toggleMenu: () => void) {
  crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' });
  state = h('div', { class: 'run-state', role: 'status' });
  live = h('span', { class: 'sr-only', 'aria-live': 'polite' });
  runBtn = h(
    'button',
    { class: 'btn run', 'aria-label': 'Run', on: { click: () => actions.run() } },
    icon('play'),
    h('span', { class: 'label' }, 'Run'),
  );
  stopBtn = h(
    'button',
    { class: 'btn stop', 'aria-label': 'Stop', title: 'Stop the running program', on: { click: () => actions.stop() } },
    icon('stop'),
    h('span', { class: 'label' }, 'Stop'),
  );
  restartBtn = h(
    'button',
    { class: 'btn', 'aria-label': 'Restart', on: { click: () => actions.restart() } },
    icon('restart'),
    h('span', { class: 'label' }, 'Restart'),
  );
  el.append(
    h(
      'button',
      { class: 'icon-btn menu', 'aria-label': 'Show the sidebar', title: 'Sidebar', on: { click: toggleMenu } },
      icon('menu'),
    ),
    h(
      'a',
      {
        class: 'brand',
        href: '/',
        'aria-label': 'Sluice: home',
        on: { click: (e: MouseEvent) => (e.preventDefault(), navigate({ cb: null, file: null })) },
      },
      h('span', { class: 'logo', 'aria-hidden': 'true' }, icon('logo')),
      h('span', null, 'Sluice'),
    ),
    crumbs,
    h('span', { class: 'spacer' }),
    state,
    live,
    h('div', { class: 'run-buttons', role: 'group', 'aria-label': 'Program' }, runBtn, stopBtn, restartBtn),
  );
  on(['route', 'info', 'file', 'dirty', 'program', 'connection', 'counters'], coalesce(render));
  render();
}
