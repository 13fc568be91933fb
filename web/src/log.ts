// The log panel, fed by the /api/v1/log/stream websocket: levels in colour,
// a text filter, clear, and auto-scroll that pauses while the reader looks
// further up.
import * as actions from './actions';
import { Stream } from './api';
import { h, replace } from './dom';
import { icon } from './icons';
import { store } from './state';

const MAX = 5000;

let lines: HTMLElement;
let follow = true;
let unseen = 0;
let filter = '';
let jump: HTMLButtonElement;
let count: HTMLElement;
let lastTs = '';
let recent = new Set<string>(); // lines with the timestamp lastTs
let reconnecting = false;

const lineRe = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \[(\w+)\] (.*)$/s;
const locRe = /(\/[\w./@+-]+\.(?:js|ts)):(\d+):(\d+)/;

function levelClass(level: string) {
  switch (level) {
    case 'ERR':
      return 'err';
    case 'WRN':
      return 'warn';
    case 'DBG':
      return 'debug';
  }
  return 'info';
}

/** message links a script location in a line to the running codebase's file. */
function message(text: string): (string | HTMLElement)[] {
  const m = locRe.exec(text);
  const cb = store.program?.running ? store.program.codebase : null;
  if (!m || !cb) return [text];
  const [all, file, line, col] = m;
  return [
    text.slice(0, m.index),
    h(
      'button',
      {
        class: 'linklike',
        title: `Open ${file} of ${cb} at line ${line}`,
        on: { click: () => actions.openAt(cb, file, +line, +col) },
      },
      all,
    ),
    text.slice(m.index + all.length),
  ];
}

function add(text: string) {
  const m = lineRe.exec(text);
  if (m) {
    const ts = m[1];
    if (reconnecting) {
      // The stream starts with the server's backlog: skip what we have.
      if (ts < lastTs || (ts === lastTs && recent.has(text))) return;
      reconnecting = false;
    }
    if (ts !== lastTs) {
      lastTs = ts;
      recent = new Set();
    }
    recent.add(text);
  }
  const el = m
    ? h(
        'div',
        { class: `line ${levelClass(m[2])}` },
        h('span', { class: 'ts' }, m[1].slice(11)),
        h('span', { class: 'lvl' }, m[2]),
        h('span', { class: 'msg' }, ...(m[2] === 'ERR' || m[2] === 'WRN' ? message(m[3]) : [m[3]])),
      )
    : h('div', { class: 'line info' }, h('span', { class: 'msg' }, text));
  if (filter && !text.toLowerCase().includes(filter)) el.hidden = true;
  el.dataset.text = text.toLowerCase();
  lines.append(el);
  while (lines.childElementCount > MAX) lines.firstElementChild!.remove();
  if (follow) scheduleScroll();
  else if (!el.hidden) {
    unseen++;
    updateJump();
  }
  updateCount();
}

let scrollPending = false;
let autoTop = 0; // where the panel last scrolled itself
function scrollToEnd() {
  lines.scrollTop = lines.scrollHeight;
  autoTop = lines.scrollTop;
}
function scheduleScroll() {
  if (scrollPending) return;
  scrollPending = true;
  requestAnimationFrame(() => {
    scrollPending = false;
    if (follow) scrollToEnd();
  });
}

function updateJump() {
  jump.hidden = follow;
  jump.lastElementChild!.textContent = unseen ? `${unseen} new line${unseen === 1 ? '' : 's'}` : 'Scroll to the end';
}

function updateCount() {
  const n = lines.childElementCount;
  count.textContent = `${n} line${n === 1 ? '' : 's'}`;
}

function applyFilter() {
  for (const el of lines.children as HTMLCollectionOf<HTMLElement>) {
    el.hidden = !!filter && !(el.dataset.text ?? '').includes(filter);
  }
  if (follow) scheduleScroll();
}

export function mountLog(el: HTMLElement) {
  lines = h('div', {
    class: 'log-lines',
    role: 'log',
    'aria-live': 'off',
    'aria-label': 'Log lines',
    tabindex: 0,
  });
  // Scrolling to the end follows the log again; scrolling up from where the
  // panel last scrolled itself pauses it. (Lines that arrive between our
  // own scroll and its event must not pause it.)
  lines.addEventListener('scroll', () => {
    const atEnd = lines.scrollTop + lines.clientHeight >= lines.scrollHeight - 6;
    if (atEnd) {
      if (!follow) {
        follow = true;
        unseen = 0;
        updateJump();
      }
    } else if (follow && lines.scrollTop < autoTop - 4) {
      follow = false;
      updateJump();
    }
  });
  jump = h(
    'button',
    {
      class: 'btn small jump',
      hidden: true,
      'aria-label': 'Scroll the log to the end and follow it',
      on: {
        click: () => {
          follow = true;
          unseen = 0;
          updateJump();
          scrollToEnd();
        },
      },
    },
    icon('down'),
    h('span'),
  );
  const input = h('input', {
    type: 'search',
    class: 'log-filter',
    placeholder: 'Filter',
    'aria-label': 'Filter the log',
    spellcheck: false,
  });
  let t = 0;
  input.addEventListener('input', () => {
    clearTimeout(t);
    t = window.setTimeout(() => {
      filter = input.value.trim().toLowerCase();
      applyFilter();
    }, 120);
  });
  count = h('span', { class: 'muted small' });
  const header = h(
    'div',
    { class: 'log-header' },
    h('h2', { class: 'panel-title' }, icon('list'), 'Log'),
    count,
    h('span', { class: 'spacer' }),
    jump,
    input,
    h(
      'button',
      {
        class: 'btn small',
        'aria-label': 'Clear the log',
        title: 'Clear the log panel (the console keeps its history)',
        on: {
          click: () => {
            replace(lines);
            unseen = 0;
            follow = true;
            updateJump();
            updateCount();
          },
        },
      },
      icon('clear'),
      'Clear',
    ),
  );
  // Fold the panel down to its header (and back), remembered.
  const app = document.getElementById('app')!;
  const fold = h('button', { class: 'icon-btn', on: { click: () => setFolded(!app.classList.contains('log-folded')) } });
  const setFolded = (folded: boolean) => {
    app.classList.toggle('log-folded', folded);
    fold.replaceChildren(icon(folded ? 'up' : 'down'));
    fold.setAttribute('aria-label', folded ? 'Show the log' : 'Hide the log');
    fold.title = folded ? 'Show the log' : 'Hide the log';
    fold.setAttribute('aria-expanded', String(!folded));
    localStorage.setItem('sluice.logFolded', folded ? '1' : '');
    if (!folded && follow) scheduleScroll();
  };
  setFolded(localStorage.getItem('sluice.logFolded') === '1');
  header.append(fold);
  el.append(header, lines);
  updateCount();
  let opened = false;
  new Stream(
    '/api/v1/log/stream',
    add,
    () => {},
    () => {
      if (opened) reconnecting = true;
      opened = true;
    },
  );
}
