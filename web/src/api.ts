// The console's REST API (backend/admin/admin.go lists it).

export interface Info {
  version: number;
  path: string;
  main: string;
  files: string[];
  editFiles: string[];
  erasedFiles: string[];
  baseFiles: string[];
  derived: string[];
  base?: string;
  readOnly: boolean;
  instances: Record<string, WorkerStatus>;
}

export interface GraphNode {
  name: string;
  t: 'root' | 'pipeline' | 'link' | 'fork' | 'filter' | string;
  p?: number;
  c?: number[];
}

export interface Graph {
  roots: number[];
  nodes: GraphNode[];
}

export interface WorkerStatus {
  timestamp: number;
  uuid: string;
  name: string;
  version: string;
  modules: Record<string, { graph: Graph }>;
}

export interface Counters {
  connections: number;
  inflight: number;
  requests?: number;
  pipelines: number;
  listeners: string[];
  workers: { id: number; connections: number; pipelines: number }[];
}

export interface ProgramMessage {
  type: 'program';
  running: boolean;
  codebase: string;
  version: string;
  main: string;
  generation: number;
  status: WorkerStatus;
}

export interface CountersMessage {
  type: 'counters';
  generation: number;
  counters: Counters;
}

export interface ApiEntry {
  name: string;
  signature: string;
  help: string;
  joint?: boolean;
  static?: boolean;
  members?: ApiEntry[];
}

export interface ApiDescription {
  configuration: ApiEntry[];
  filters: ApiEntry[];
  classes: ApiEntry[];
}

export interface VersionInfo {
  version: number;
  main: string;
  created: string;
}

/** ApiError is the server's one error shape; script errors carry a location. */
export class ApiError extends Error {
  status: number;
  file?: string;
  line?: number;
  column?: number;
  detail?: string;
  constructor(status: number, message: string, extra: Partial<ApiError> = {}) {
    super(message);
    this.status = status;
    Object.assign(this, extra);
  }
}

/** path encodes a codebase or file path for a URL, keeping its slashes. */
export function enc(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

async function call(method: string, url: string, body?: string | null, headers: Record<string, string> = {}) {
  let res: Response;
  try {
    res = await fetch(url, { method, body: body ?? undefined, headers, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, `The console does not answer (${(e as Error).message})`);
  }
  if (!res.ok && res.status !== 304) {
    let err: any = {};
    const text = await res.text();
    try {
      err = JSON.parse(text);
    } catch {
      err = { message: text || res.statusText };
    }
    throw new ApiError(res.status, err.message || `${res.status} ${res.statusText}`, {
      file: err.file,
      line: err.line,
      column: err.column,
      detail: err.detail,
    });
  }
  return res;
}

export async function listCodebases(): Promise<string[]> {
  const text = await (await call('GET', '/api/v1/repo')).text();
  return text.split('\n').filter(Boolean);
}

export async function info(cb: string): Promise<Info> {
  return (await call('GET', `/api/v1/repo${enc(cb)}`)).json();
}

export async function createCodebase(cb: string, base?: string): Promise<Info> {
  const body = base ? { base } : {};
  return (await call('POST', `/api/v1/repo${enc(cb)}`, JSON.stringify(body))).json();
}

export async function deleteCodebase(cb: string) {
  await call('DELETE', `/api/v1/repo${enc(cb)}`);
}

export async function setMain(cb: string, main: string): Promise<Info> {
  return (await call('POST', `/api/v1/repo${enc(cb)}`, JSON.stringify({ main }))).json();
}

export async function commit(cb: string, version: number): Promise<Info> {
  return (await call('POST', `/api/v1/repo${enc(cb)}`, JSON.stringify({ version }))).json();
}

export async function versions(cb: string): Promise<VersionInfo[]> {
  return (await call('GET', `/api/v1/versions${enc(cb)}`)).json();
}

export async function readFile(cb: string, file: string): Promise<{ text: string; etag: string }> {
  const res = await call('GET', `/api/v1/repo${enc(cb)}${enc(file)}`);
  return { text: await res.text(), etag: res.headers.get('ETag') ?? '' };
}

/**
 * saveFile saves a draft. With an etag the save fails with 412 when the file
 * changed since; with create it fails when the file exists. Returns the new
 * ETag.
 */
export async function saveFile(
  cb: string,
  file: string,
  text: string,
  opts: { etag?: string; create?: boolean } = {},
): Promise<string> {
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (opts.etag) headers['If-Match'] = opts.etag;
  if (opts.create) headers['If-None-Match'] = '*';
  const res = await call('POST', `/api/v1/repo${enc(cb)}${enc(file)}`, text, headers);
  return res.headers.get('ETag') ?? '';
}

export async function eraseFile(cb: string, file: string) {
  await call('DELETE', `/api/v1/repo${enc(cb)}${enc(file)}`);
}

/** restoreFile drops a file's draft: an erased or edited file is as committed again. */
export async function restoreFile(cb: string, file: string) {
  await call('PATCH', `/api/v1/repo${enc(cb)}${enc(file)}`, '');
}

export async function program(): Promise<string> {
  return (await (await call('GET', '/api/v1/program')).text()).trim();
}

export async function run(cb: string) {
  await call('POST', '/api/v1/program', cb);
}

export async function stop() {
  await call('DELETE', '/api/v1/program');
}

/**
 * graph compiles a module without running it and returns its diagram. With
 * main, the codebase loads from that module (with this one in place), so a
 * plugin sees what the main module exports.
 */
export async function graph(script: string, file: string, cb?: string, main?: string, signal?: AbortSignal): Promise<Graph> {
  const q = new URLSearchParams({ path: file });
  if (cb) q.set('codebase', cb);
  if (main && main !== file) q.set('main', main);
  const res = await fetch(`/api/v1/graph?${q}`, { method: 'POST', body: script, signal });
  if (!res.ok) {
    const err = await res.json().catch(() => ({ message: res.statusText }));
    throw new ApiError(res.status, err.message, err);
  }
  return res.json();
}

export async function apiDescription(): Promise<ApiDescription> {
  return (await call('GET', '/api/v1/api')).json();
}

/** wsURL turns an API path into a websocket URL on this host. */
export function wsURL(p: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${p}`;
}

/**
 * Stream is a websocket that reconnects (with backoff) until closed, and
 * reports whether it is connected.
 */
export class Stream {
  private ws: WebSocket | null = null;
  private delay = 300;
  private closed = false;
  private timer = 0;
  constructor(
    private path: string,
    private onMessage: (data: string) => void,
    private onState: (connected: boolean) => void = () => {},
    private onOpen: () => void = () => {},
  ) {
    this.connect();
  }
  private connect() {
    if (this.closed) return;
    const ws = new WebSocket(wsURL(this.path));
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 300;
      this.onOpen();
      this.onState(true);
    };
    ws.onmessage = (e) => this.onMessage(String(e.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.onState(false);
      if (!this.closed) {
        this.timer = window.setTimeout(() => this.connect(), this.delay);
        this.delay = Math.min(this.delay * 2, 5000);
      }
    };
    ws.onerror = () => {};
  }
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.ws?.close();
  }
}
