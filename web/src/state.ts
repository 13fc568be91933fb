// The console's state, shared by the views, and the router.
import type { ApiDescription, Counters, Info, ProgramMessage } from './api';
import { Emitter } from './dom';

export type Topic =
  | 'codebases' // the list of codebases or one's info changed
  | 'program' // what runs
  | 'counters' // the running program's figures
  | 'connection' // the status stream's connection
  | 'route' // the address
  | 'info' // the open codebase's info
  | 'file' // the open file
  | 'dirty' // unsaved files
  | 'api'; // the scripting API description arrived

export type PanelTab = 'diagram' | 'status' | 'guide';
export type SideTab = 'codebases' | 'files' | 'tutorials';

export const store = {
  codebases: [] as string[],
  infos: new Map<string, Info>(),
  program: null as ProgramMessage | null,
  counters: null as Counters | null,
  connected: false,
  api: null as ApiDescription | null,

  /** The open codebase (null on the home page), its info and open file. */
  cb: null as string | null,
  info: null as Info | null,
  file: null as string | null,
  /** Unsaved files of every codebase, as "<codebase>\n<file>". */
  dirty: new Set<string>(),

  sideTab: 'codebases' as SideTab,
  panelTab: 'diagram' as PanelTab,

  changed: new Emitter<Topic>(),
};

export function emit(t: Topic) {
  store.changed.emit(t);
}

export function on(topics: Topic[], fn: (t: Topic) => void) {
  return store.changed.on((t) => topics.includes(t) && fn(t));
}

export function dirtyKey(cb: string, file: string) {
  return `${cb}\n${file}`;
}

export function isDirty(cb: string, file: string) {
  return store.dirty.has(dirtyKey(cb, file));
}

export function dirtyFiles(cb: string): string[] {
  const out: string[] = [];
  for (const k of store.dirty) {
    const [c, f] = k.split('\n');
    if (c === cb) out.push(f);
  }
  return out;
}

/** hasDraft tells whether a codebase has saved changes not yet committed. */
export function hasDraft(i: Info | undefined | null) {
  return !!i && (i.editFiles.length > 0 || i.erasedFiles.length > 0);
}

/** workingFiles lists a codebase's files as the editor shows them, erased ones included. */
export function workingFiles(i: Info): string[] {
  return [...new Set([...i.files, ...i.baseFiles, ...i.editFiles, ...i.erasedFiles])].sort();
}

// ---------------------------------------------------------------------------
// Addresses: / is the home page, /repo/<codebase>/ a codebase, with
// ?file=/x.js naming the open file.

export interface Route {
  cb: string | null;
  file: string | null;
}

export function parseRoute(loc: Location = location): Route {
  const p = decodeURIComponent(loc.pathname);
  const q = new URLSearchParams(loc.search);
  if (p.startsWith('/repo/')) {
    const cb = p.slice('/repo'.length).replace(/\/+$/, '');
    if (cb) return { cb, file: q.get('file') };
  }
  return { cb: null, file: null };
}

export function routeURL(r: Route): string {
  if (!r.cb) return '/';
  const path = '/repo' + r.cb.split('/').map(encodeURIComponent).join('/') + '/';
  return r.file ? `${path}?file=${encodeURIComponent(r.file).replace(/%2F/g, '/')}` : path;
}

let follow: () => void = () => {};

/** onNavigate sets what follows an address change (opening its codebase and file). */
export function onNavigate(fn: () => void) {
  follow = fn;
}

/** navigate changes the address and follows it. */
export function navigate(r: Route, replace = false) {
  const url = routeURL(r);
  if (url !== location.pathname + location.search) {
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
  }
  follow();
}

/** isTutorialStep tells a bundled tutorial step's codebase, e.g. /tutorials/05-plugins. */
export function isTutorialStep(cb: string) {
  return /^\/tutorials\/\d+-[^/]+$/.test(cb);
}
