// Builds the console's front end: web/src/main.ts (and the CSS it imports)
// bundled by esbuild into web/dist/app.js and web/dist/app.css, beside the
// committed web/dist/index.html, plus web/dist/licenses.txt with the notices
// of every npm package in the bundle.
//
//   node web/build.mjs           minified, as embedded in the binary
//   node web/build.mjs --dev     with source maps, not minified
//   node web/build.mjs --watch   rebuild on change (implies --dev)
import * as esbuild from 'esbuild';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const dev = watch || process.argv.includes('--dev');
const outdir = join(root, 'web/dist');

const options = {
  absWorkingDir: root,
  entryPoints: { app: 'web/src/main.ts' },
  bundle: true,
  outdir,
  format: 'iife',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  legalComments: 'none', // licenses.txt has them
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
};

// licenses writes the LICENSE text of each package the bundle took code from.
function licenses(metafile) {
  const pkgs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (m) pkgs.add(m[1]);
  }
  const parts = ['Third-party software in the Sluice console (web/dist/app.js):\n'];
  for (const name of [...pkgs].sort()) {
    const dir = join(root, 'node_modules', name);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = file ? readFileSync(join(dir, file), 'utf8').trim() : `License: ${pkg.license}`;
    parts.push(`\n${'='.repeat(72)}\n${name} ${pkg.version} (${pkg.license})\n${'='.repeat(72)}\n${text}\n`);
  }
  writeFileSync(join(outdir, 'licenses.txt'), parts.join(''));
}

function report(result) {
  licenses(result.metafile);
  for (const [file, out] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('.map')) console.log(`${file}  ${(out.bytes / 1024).toFixed(1)} KiB`);
  }
}

if (!existsSync(join(outdir, 'index.html'))) {
  console.error('web/dist/index.html is missing: it is part of the sources (git checkout web/dist/index.html)');
  process.exit(1);
}
// Start from index.html alone, so that nothing stale (a source map of a
// --dev build) is embedded.
for (const f of readdirSync(outdir)) {
  if (f !== 'index.html') rmSync(join(outdir, f), { recursive: true, force: true });
}
if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{ name: 'report', setup: (b) => b.onEnd((r) => r.errors.length || report(r)) }],
  });
  await ctx.watch();
  console.log('watching web/src (rebuild the Go binary to embed the result)');
} else {
  report(await esbuild.build(options));
}
