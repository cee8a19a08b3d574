// Bundles GraphiQL into ../gateway/static/graphiql/ with esbuild, then checks that
// nothing in the output would make a browser fetch from another origin.
//
//   graphiql.js, graphiql.css   the page's entry script (ES module) and styles
//   chunks/                     lazily imported code (prettier, monaco languages)
//   workers/                    monaco's web workers, as classic scripts
//   assets/                     fonts or images referenced by the CSS, if any
import { build } from 'esbuild';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.env.GRAPHIQL_OUT_DIR || join(here, '..', 'gateway', 'static', 'graphiql'));

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'external',
  logLevel: 'warning',
  absWorkingDir: here,
};

async function bundle() {
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  await build({
    ...common,
    entryPoints: { graphiql: 'src/main.jsx' },
    outdir,
    format: 'esm',
    splitting: true,
    jsx: 'automatic',
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
  });
  await build({
    ...common,
    entryPoints: {
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    outdir: join(outdir, 'workers'),
    format: 'iife',
  });
}

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

// Hosts that serve front-end code, styles or fonts; the explorer must never need them.
const CDN = /(?:fonts\.googleapis\.com|fonts\.gstatic\.com|unpkg\.com|cdn\.jsdelivr\.net|esm\.sh|cdnjs\.cloudflare\.com|cdn\.skypack\.dev|ga\.jspm\.io|esm\.run)/;
// Ways a stylesheet or script pulls in something from another origin.
const REMOTE_CSS = /@import\s+(?:url\()?\s*['"]?(?:https?:)?\/\/|url\(\s*['"]?(?:https?:)?\/\//i;
const REMOTE_JS = /(?:importScripts|import)\s*\(\s*['"`](?:https?:)?\/\//;

async function check() {
  const problems = [];
  let total = 0;
  for await (const path of walk(outdir)) {
    if (!/\.(?:js|css|html)$/.test(path)) continue;
    const text = await readFile(path, 'utf8');
    total += text.length;
    const name = relative(outdir, path);
    const cdn = text.match(CDN);
    if (cdn) problems.push(`${name}: mentions CDN host ${cdn[0]}`);
    if (path.endsWith('.css') && REMOTE_CSS.test(text)) problems.push(`${name}: remote @import/url()`);
    if (path.endsWith('.js') && REMOTE_JS.test(text)) problems.push(`${name}: remote import()`);
  }
  if (problems.length) {
    throw new Error(`GraphiQL bundle would load from other origins:\n  ${problems.join('\n  ')}`);
  }
  return total;
}

const started = Date.now();
await bundle();
const bytes = await check();
await writeFile(join(outdir, '.build-stamp'), `${new Date().toISOString()}\n`);
console.log(
  `graphiql: built ${outdir} (${(bytes / 1e6).toFixed(1)} MB of js/css) in ${((Date.now() - started) / 1000).toFixed(1)}s`,
);
