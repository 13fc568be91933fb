// Placeholder build for the console: until the real front end exists, make
// sure web/dist/index.html is there so the Go embed always has something.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';

const out = new URL('./dist/index.html', import.meta.url);
if (!existsSync(out)) {
  mkdirSync(new URL('./dist/', import.meta.url), { recursive: true });
  writeFileSync(out, '<!doctype html>\n<meta charset="utf-8">\n<title>Sluice console</title>\n<h1>Sluice console — coming soon</h1>\n');
  console.log('wrote web/dist/index.html');
}
