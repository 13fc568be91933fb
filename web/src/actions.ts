// What the buttons do: codebase and file operations, running, committing.
import * as api from './api';
import { ApiError, type Info } from './api';
import { confirm, form, toast } from './dialog';
import * as editor from './editor';
import { emit, hasDraft, navigate, parseRoute, store, workingFiles, type SideTab } from './state';

export function report(e: unknown, what: string) {
  if (e instanceof ApiError) {
    const where = e.file ? ` (${e.file}${e.line ? `:${e.line}:${e.column ?? 1}` : ''})` : '';
    toast(`${what}: ${e.message}${where}`, 'error', e.detail && e.detail !== e.message ? e.detail : undefined);
  } else {
    toast(`${what}: ${(e as Error).message ?? e}`, 'error');
  }
}

// ---------------------------------------------------------------------------
// The list of codebases and their infos.

let infoQueue: Promise<void> = Promise.resolve();

/** refreshList reads the list of codebases (or takes one already asked for) and their infos. */
export async function refreshList(asked?: Promise<string[]>) {
  try {
    store.codebases = await (asked ?? api.listCodebases());
    performance.mark('sluice-list');
  } catch (e) {
    report(e, 'Listing the codebases');
    return;
  }
  for (const cb of [...store.infos.keys()]) if (!store.codebases.includes(cb)) store.infos.delete(cb);
  // The bundled tutorial steps are read-only and never change: their infos
  // are read when their folder is opened (fetchInfosUnder). The others' go
  // first, before the views ask for more.
  const wanted = store.codebases.filter((c) => !c.startsWith('/tutorials/') || store.infos.has(c));
  const infos = fetchInfos(wanted);
  infoQueue = infoQueue.then(() => infos);
  emit('codebases');
  await infoQueue;
  performance.mark('sluice-infos');
}

const requested = new Set<string>();

/** fetchInfosUnder reads the infos of a folder's codebases not read yet. */
export function fetchInfosUnder(folder: string) {
  const todo = store.codebases.filter((c) => c.startsWith(folder + '/') && !store.infos.has(c) && !requested.has(c));
  for (const c of todo) requested.add(c);
  if (todo.length) infoQueue = infoQueue.then(() => fetchInfos(todo));
}

async function fetchInfos(list: string[]) {
  const todo = [...list];
  const worker = async () => {
    for (let cb; (cb = todo.shift()); ) {
      try {
        store.infos.set(cb, await api.info(cb));
      } catch {
        // deleted meanwhile
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  emit('codebases');
}

/** refreshInfo reloads the open codebase's info. */
export async function refreshInfo() {
  const cb = store.cb;
  if (!cb) return;
  try {
    setInfo(await api.info(cb));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      toast(`The codebase ${cb} no longer exists`, 'error');
      editor.forget(cb);
      navigate({ cb: null, file: null }, true);
      void refreshList();
    } else report(e, `Reading ${cb}`);
  }
}

function setInfo(i: Info) {
  if (i.path !== store.cb) return;
  store.info = i;
  store.infos.set(i.path, i);
  emit('info');
  emit('codebases');
}

// ---------------------------------------------------------------------------
// Opening codebases and files (the address says which).

export function setSideTab(t: SideTab) {
  store.sideTab = t;
  emit('route');
}

let routeToken = 0;

/** openRoute follows the address: opens its codebase and file. */
export async function openRoute() {
  const token = ++routeToken;
  const r = parseRoute();
  if (r.cb !== store.cb) {
    store.cb = r.cb;
    store.info = null;
    store.file = null;
    editor.show(null);
    emit('info');
    emit('file');
    if (!r.cb) {
      if (store.sideTab === 'files') store.sideTab = 'codebases';
      emit('route');
      return;
    }
    if (store.sideTab === 'codebases') store.sideTab = 'files';
    if (/^\/tutorials\/\d/.test(r.cb) || r.cb.startsWith('/learn/')) store.panelTab = 'guide';
    emit('route');
    try {
      store.info = await api.info(r.cb);
      store.infos.set(r.cb, store.info);
    } catch (e) {
      if (store.cb !== r.cb) return;
      report(e, `Opening ${r.cb}`);
      store.cb = null;
      navigate({ cb: null, file: null }, true);
      return;
    }
    if (store.cb !== r.cb) return;
    emit('info');
  } else emit('route');
  const info = store.info;
  if (!info || !r.cb) return;
  const files = workingFiles(info).filter((f) => !info.erasedFiles.includes(f));
  let file = r.file && files.includes(r.file) ? r.file : null;
  if (!file) file = files.includes(info.main) ? info.main : (files.find((f) => editor.isScript(f)) ?? files[0] ?? null);
  if (file !== r.file) history.replaceState(null, '', routeFor(r.cb, file));
  await showFile(file, () => token === routeToken);
}

function routeFor(cb: string, file: string | null) {
  const path = '/repo' + cb.split('/').map(encodeURIComponent).join('/') + '/';
  return file ? `${path}?file=${encodeURIComponent(file).replace(/%2F/g, '/')}` : path;
}

/** A place to move the cursor to once its file is shown (openAt). */
let pendingPlace: { cb: string; file: string; line: number; column: number } | null = null;

/** openAt opens a file of a codebase with the cursor at a line and column. */
export function openAt(cb: string, file: string, line: number, column = 1) {
  if (store.cb === cb && store.file === file) {
    editor.goTo(line, column);
    return;
  }
  pendingPlace = { cb, file, line, column };
  navigate({ cb, file });
}

async function showFile(file: string | null, current: () => boolean) {
  const cb = store.cb;
  const info = store.info;
  if (!cb || !info) return;
  if (!file) {
    store.file = null;
    editor.show(null);
    emit('file');
    return;
  }
  try {
    const b = await editor.load(cb, file, info.readOnly);
    if (store.cb !== cb || !current()) return; // another file was asked for meanwhile
    store.file = file;
    editor.show(b);
    emit('file');
    const p = pendingPlace;
    if (p && p.cb === cb && p.file === file) {
      pendingPlace = null;
      editor.goTo(p.line, p.column);
    }
  } catch (e) {
    report(e, `Opening ${file}`);
  }
}

/** openFile opens a file of the open codebase. */
export function openFile(file: string) {
  if (!store.cb) return;
  navigate({ cb: store.cb, file });
}

export function openCodebase(cb: string, file: string | null = null) {
  navigate({ cb, file });
}

// ---------------------------------------------------------------------------
// Codebases

function cleanCodebasePath(p: string) {
  p = p.trim();
  if (!p.startsWith('/')) p = '/' + p;
  return p.replace(/\/+$/, '').replace(/\/{2,}/g, '/');
}

export async function newCodebase(base = '') {
  const options = [
    { value: '', label: '(none: start empty)' },
    ...store.codebases.map((c) => ({ value: c, label: c })),
  ];
  const v = await form({
    title: base ? `Derive from ${base}` : 'New codebase',
    text: base
      ? `The new codebase starts as ${base} and keeps its files: change or add only what differs.`
      : undefined,
    fields: [
      {
        name: 'path',
        label: 'Path',
        value: base ? `${base}-copy` : '/',
        placeholder: '/my-proxy',
        hint: 'Like a file path: /team/gateway makes a folder "team".',
      },
      { name: 'base', label: 'Derive from', value: base, options },
    ],
    submit: 'Create',
    validate: (v) => {
      const p = cleanCodebasePath(v.path);
      if (p === '/' || !/^(\/[\w.@+-]+)+$/.test(p)) return 'Give a path such as /my-proxy (letters, digits, - _ . @ +).';
      if (store.codebases.includes(p)) return `${p} exists already.`;
      return null;
    },
  });
  if (!v) return;
  const p = cleanCodebasePath(v.path);
  try {
    await api.createCodebase(p, v.base || undefined);
  } catch (e) {
    report(e, `Creating ${p}`);
    return;
  }
  toast(v.base ? `Created ${p} from ${v.base}` : `Created ${p}`, 'ok');
  await refreshList();
  openCodebase(p);
}

export async function deleteCodebase(cb: string) {
  const i = store.infos.get(cb);
  if (i?.derived.length) {
    toast(`${cb} cannot be deleted: ${i.derived.join(', ')} derive${i.derived.length > 1 ? '' : 's'} from it.`, 'error');
    return;
  }
  if (!(await confirm(`Delete ${cb}?`, `Every version and draft of ${cb} is deleted. This cannot be undone.`, 'Delete')))
    return;
  try {
    await api.deleteCodebase(cb);
  } catch (e) {
    report(e, `Deleting ${cb}`);
    return;
  }
  editor.forget(cb);
  toast(`Deleted ${cb}`, 'ok');
  if (store.cb === cb) navigate({ cb: null, file: null });
  await refreshList();
}

// ---------------------------------------------------------------------------
// Files

function cleanFilePath(p: string) {
  p = p.trim();
  if (!p.startsWith('/')) p = '/' + p;
  return p.replace(/\/{2,}/g, '/');
}

function validFile(p: string, info: Info, except?: string) {
  if (!/^(\/[^/\s\\]+)+$/.test(p) || p.split('/').some((s) => s === '.' || s === '..'))
    return 'Give a file path such as /plugins/router.js.';
  const live = workingFiles(info).filter((f) => !info.erasedFiles.includes(f));
  if (p !== except && live.includes(p)) return `${p} exists already.`;
  if (live.some((f) => f.startsWith(p + '/'))) return `${p} is a folder.`;
  return null;
}

export async function newFile(folder = '/') {
  const cb = store.cb;
  const info = store.info;
  if (!cb || !info || info.readOnly) return;
  const v = await form({
    title: 'New file',
    fields: [
      {
        name: 'path',
        label: 'Path',
        value: folder.endsWith('/') ? folder : folder + '/',
        placeholder: '/plugins/router.js',
        hint: 'Folders in the path are made as needed.',
      },
    ],
    submit: 'Create',
    validate: (v) => validFile(cleanFilePath(v.path), info),
  });
  if (!v) return;
  const p = cleanFilePath(v.path);
  try {
    if (info.erasedFiles.includes(p)) await api.restoreFile(cb, p);
    await api.saveFile(cb, p, '', { create: !info.erasedFiles.includes(p) });
  } catch (e) {
    report(e, `Creating ${p}`);
    return;
  }
  editor.forget(cb, p);
  await refreshInfo();
  openFile(p);
  setTimeout(() => editor.focus(), 50);
}

export async function renameFile(from: string) {
  const cb = store.cb;
  const info = store.info;
  if (!cb || !info || info.readOnly) return;
  const v = await form({
    title: `Rename ${from}`,
    fields: [{ name: 'path', label: 'New path', value: from }],
    submit: 'Rename',
    validate: (v) => validFile(cleanFilePath(v.path), info, from),
  });
  if (!v) return;
  const to = cleanFilePath(v.path);
  if (to === from) return;
  try {
    const b = editor.buffer(cb, from);
    const text = b ? editor.text(b) : (await api.readFile(cb, from)).text;
    if (info.erasedFiles.includes(to)) await api.restoreFile(cb, to);
    await api.saveFile(cb, to, text, { create: !info.erasedFiles.includes(to) });
    await api.eraseFile(cb, from);
    if (info.main === from) await api.setMain(cb, to);
  } catch (e) {
    report(e, `Renaming ${from}`);
    await refreshInfo();
    return;
  }
  editor.forget(cb, from);
  toast(`Renamed ${from} to ${to}`, 'ok');
  await refreshInfo();
  if (store.file === from || !store.file) openFile(to);
}

export async function eraseFile(file: string) {
  const cb = store.cb;
  const info = store.info;
  if (!cb || !info || info.readOnly) return;
  if (file === info.main) {
    toast(`${file} is the main entry: flag another file as main before deleting it.`, 'error');
    return;
  }
  const committed = info.files.includes(file) || info.baseFiles.includes(file);
  const ok = await confirm(
    `Delete ${file}?`,
    committed
      ? `${file} is deleted in the draft: Restore brings it back until you commit.`
      : `${file} was never committed: it is gone for good.`,
    'Delete',
  );
  if (!ok) return;
  try {
    await api.eraseFile(cb, file);
  } catch (e) {
    report(e, `Deleting ${file}`);
    return;
  }
  editor.forget(cb, file);
  await refreshInfo();
  if (store.file === file) navigate({ cb, file: null }, true);
}

export async function restoreFile(file: string) {
  const cb = store.cb;
  if (!cb) return;
  const edited = store.info?.editFiles.includes(file) && !store.info?.erasedFiles.includes(file);
  if (edited && !(await confirm(`Revert ${file}?`, `Your saved changes to ${file} since the last commit are dropped.`, 'Revert')))
    return;
  try {
    await api.restoreFile(cb, file);
  } catch (e) {
    report(e, `Restoring ${file}`);
    return;
  }
  editor.forget(cb, file);
  await refreshInfo();
  if (store.file === file || !store.file) {
    store.file = null;
    navigate({ cb, file }, true);
  }
}

export async function setMain(file: string) {
  const cb = store.cb;
  if (!cb || !store.info || store.info.readOnly || store.info.main === file) return;
  try {
    setInfo(await api.setMain(cb, file));
    toast(`${file} is the main entry of ${cb}`, 'ok');
    editor.recheck(); // a plugin is checked from the main module
  } catch (e) {
    report(e, `Flagging ${file} as main`);
  }
}

// ---------------------------------------------------------------------------
// Saving, committing, running

export async function save() {
  try {
    const b = editor.currentBuffer();
    if (b && (await editor.save(b))) await refreshInfo();
  } catch (e) {
    report(e, 'Saving');
  }
}

export async function saveBeforeUse(cb: string): Promise<boolean> {
  try {
    if (await editor.saveAll(cb)) {
      await refreshInfo();
      return true;
    }
    toast('A file is in conflict with a newer save: resolve it first (see the banner over the editor).', 'error');
    return false;
  } catch (e) {
    report(e, 'Saving');
    return false;
  }
}

export function canCommit() {
  const cb = store.cb;
  if (!cb || !store.info || store.info.readOnly) return false;
  return hasDraft(store.info) || [...store.dirty].some((k) => k.startsWith(cb + '\n'));
}

export async function commit() {
  const cb = store.cb;
  if (!cb || !store.info || store.info.readOnly) return;
  if (!(await saveBeforeUse(cb))) return;
  const info = store.info;
  try {
    setInfo(await api.commit(cb, info.version + 1));
  } catch (e) {
    report(e, `Committing ${cb}`);
    return;
  }
  toast(`Committed ${cb} as version ${store.info!.version}`, 'ok');
  void refreshList();
}

/** showScriptError opens the file a script error is in, at its line. */
function showScriptError(e: unknown, cb: string) {
  if (!(e instanceof ApiError) || !e.file || !e.line || store.cb !== cb) return;
  openAt(cb, e.file, e.line, e.column);
}

export async function run(cb = store.cb) {
  if (!cb) return;
  if (!(await saveBeforeUse(cb))) return;
  try {
    await api.run(cb);
  } catch (e) {
    report(e, `Running ${cb}`);
    showScriptError(e, cb);
  }
}

export async function stop() {
  try {
    await api.stop();
  } catch (e) {
    report(e, 'Stopping');
  }
}

export async function restart() {
  const cb = store.program?.running ? store.program.codebase : store.cb;
  if (!cb) return;
  if (!(await saveBeforeUse(cb))) return;
  try {
    await api.run(cb);
  } catch (e) {
    report(e, `Restarting ${cb}`);
    showScriptError(e, cb);
  }
}
