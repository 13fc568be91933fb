// The Status tab: what runs, where it listens, its connections, requests
// per second (a live chart of the last minute) and each worker's figures.
import { h, s } from './dom';
import { store } from './state';

const SAMPLES = 60;
const rates: number[] = [];
let last: { t: number; requests: number; generation: number } | null = null;

/**
 * started notes that a generation began while the page watched, so that its
 * first requests count from zero.
 */
export function started(generation: number) {
  last = { t: performance.now(), requests: 0, generation };
}

/** sample records the request rate once a second from the latest counters. */
export function sample() {
  const c = store.counters;
  const p = store.program;
  const now = performance.now();
  if (!c || !p?.running || c.requests === undefined) {
    last = null;
    rates.push(0);
  } else {
    if (last && last.generation === p.generation && c.requests >= last.requests) {
      rates.push(((c.requests - last.requests) * 1000) / Math.max(now - last.t, 1));
    } else rates.push(0);
    last = { t: now, requests: c.requests, generation: p.generation };
  }
  while (rates.length > SAMPLES) rates.shift();
}

export function currentRate() {
  return rates.length ? rates[rates.length - 1] : 0;
}

function fmt(n: number) {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(n ? 2 : 0);
}

function chart(): SVGSVGElement {
  const W = 300;
  const H = 64;
  const data = [...Array(Math.max(SAMPLES - rates.length, 0)).fill(0), ...rates];
  const max = Math.max(1, ...data);
  const scale = (v: number) => H - 4 - (v / max) * (H - 10);
  const pts = data.map((v, i) => `${((i / (SAMPLES - 1)) * W).toFixed(1)},${scale(v).toFixed(1)}`);
  return s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${W} ${H}`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': `Requests per second over the last minute: now ${fmt(currentRate())}, peak ${fmt(Math.max(...data))}`,
    },
    s('line', { x1: 0, x2: W, y1: scale(max), y2: scale(max), class: 'chart-grid' }),
    s('line', { x1: 0, x2: W, y1: H - 4, y2: H - 4, class: 'chart-grid' }),
    s('polygon', { points: `0,${H - 4} ${pts.join(' ')} ${W},${H - 4}`, class: 'chart-area' }),
    s('polyline', { points: pts.join(' '), class: 'chart-line' }),
  );
}

function figure(label: string, value: string | number, hint?: string) {
  return h('div', { class: 'figure', title: hint }, h('span', { class: 'figure-value' }, String(value)), h('span', { class: 'figure-label' }, label));
}

function listenerLink(addr: string) {
  const m = /:(\d+)$/.exec(addr);
  if (!m) return h('code', null, addr);
  const url = `http://${location.hostname}:${m[1]}/`;
  return h('span', null, h('code', null, addr), ' ', h('a', { href: url, target: '_blank', rel: 'noopener' }, 'open ↗'));
}

export function renderStatus(): HTMLElement {
  const p = store.program;
  const c = store.counters;
  const out = h('div', { class: 'status-view' });
  if (!store.connected) {
    out.append(h('div', { class: 'banner error' }, h('p', null, 'The console does not answer; reconnecting…')));
  }
  out.append(
    h(
      'div',
      { class: `run-card ${p?.running ? 'running' : 'stopped'}` },
      h('span', { class: `dot ${p?.running ? 'running' : ''}` }),
      p?.running
        ? h('div', null, h('strong', null, p.codebase), h('div', { class: 'muted small' }, `version ${p.version} · main ${p.main} · generation ${p.generation}`))
        : h('div', null, h('strong', null, 'Stopped'), h('div', { class: 'muted small' }, 'Nothing runs.')),
    ),
  );
  const rate = currentRate();
  out.append(
    h(
      'div',
      { class: 'figures' },
      figure('requests/s', fmt(rate), 'HTTP requests started per second'),
      figure('connections', c?.connections ?? 0, 'Open inbound connections'),
      figure('in flight', c?.inflight ?? 0, 'Requests being served'),
      figure('pipelines', c?.pipelines ?? 0, 'Live pipelines'),
    ),
    h('div', { class: 'chart-box' }, h('div', { class: 'chart-title' }, 'Requests per second, last minute'), chart()),
  );
  out.append(h('h3', null, 'Listeners'));
  if (c?.listeners.length) out.append(h('ul', { class: 'plain' }, ...c.listeners.map((l) => h('li', null, listenerLink(l)))));
  else out.append(h('p', { class: 'empty' }, 'None.'));
  if (c?.workers.length) {
    out.append(
      h('h3', null, 'Worker threads'),
      h(
        'table',
        { class: 'table' },
        h('thead', null, h('tr', null, h('th', null, 'Thread'), h('th', null, 'Connections'), h('th', null, 'Pipelines'))),
        h(
          'tbody',
          null,
          ...c.workers.map((w) => h('tr', null, h('td', null, `#${w.id}`), h('td', null, String(w.connections)), h('td', null, String(w.pipelines)))),
        ),
      ),
    );
  }
  const inst = store.info ? Object.entries(store.info.instances ?? {}) : [];
  if (store.info) {
    out.append(h('h3', null, `Workers pulling ${store.info.path}`));
    if (inst.length) {
      out.append(
        h(
          'table',
          { class: 'table' },
          h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'Name'), h('th', null, 'Version'), h('th', null, 'Seen'))),
          h(
            'tbody',
            null,
            ...inst.map(([i, st]) =>
              h('tr', null, h('td', null, i), h('td', { title: st.uuid }, st.name), h('td', null, st.version), h('td', null, new Date(st.timestamp).toLocaleTimeString())),
            ),
          ),
        ),
      );
    } else {
      out.append(
        h(
          'p',
          { class: 'empty' },
          'None. Start one with ',
          h('code', null, `sluice http://${location.host}/repo${store.info.path}/`),
          ': it runs the committed version and follows every commit.',
        ),
      );
    }
  }
  return out;
}
