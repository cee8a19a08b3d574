// End-to-end check of the GraphiQL explorer in headless Debian Chromium (playwright-core).
//
//   node tests/browser/graphiql.e2e.mjs --url http://127.0.0.1:PORT [--screenshot PATH]
//        [--extra-query TEXT --extra-expect TEXT]   (e.g. a subscription, once the gateway has one)
//
// Opens <url>/graphql as a browser would, blocks and records every request that leaves the
// gateway's origin, waits for the editor and the schema, runs the default query with the run
// button, reads the result pane, and collects CSP violations, console errors and page errors.
// Prints one JSON report on stdout; exits 1 if any check failed (pytest reads the report).
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    url: { type: 'string' },
    screenshot: { type: 'string', default: 'test-artifacts/graphiql.png' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH || '/usr/bin/chromium' },
    'timeout-ms': { type: 'string', default: '45000' },
    'extra-query': { type: 'string' },
    'extra-expect': { type: 'string' },
  },
});
if (!opts.url) throw new Error('--url is required');
const origin = new URL(opts.url).origin;
const timeout = Number(opts['timeout-ms']);

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

const report = {
  url: `${origin}/graphql`,
  checks: {},
  failures: [],
  foreignRequests: [],
  sameOriginRequests: 0,
  webSockets: [],
  cspViolations: [],
  consoleErrors: [],
  pageErrors: [],
  csp: null,
  transcodeStatuses: [],
  errorCodes: [],
  resultText: '',
  screenshot: resolve(opts.screenshot),
  timingsMs: {},
};
const started = Date.now();
const mark = (name) => (report.timingsMs[name] = Date.now() - started);
const foreign = (url) => {
  if (!report.foreignRequests.includes(url)) report.foreignRequests.push(url);
};
const check = (name, ok, detail) => {
  report.checks[name] = Boolean(ok);
  if (!ok) report.failures.push(detail ? `${name}: ${detail}` : name);
};

// Inert helpers: only pure string work on this side.
const isOwn = (url) => {
  try {
    const u = new URL(url);
    if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
    const asHttp = u.protocol === 'ws:' ? 'http:' : u.protocol === 'wss:' ? 'https:' : u.protocol;
    return `${asHttp}//${u.host}` === origin;
  } catch {
    return false;
  }
};

const userDataDir = await mkdtemp(join(tmpdir(), 'graphiql-e2e-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1600, height: 1000 },
    bypassCSP: false,
    serviceWorkers: 'block',
    timeout,
  });
  context.setDefaultTimeout(timeout);
  mark('launched');

  // Runs in every page before its own scripts; CDP injection is not subject to the page's CSP.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(
        `CSP-VIOLATION ${JSON.stringify({
          directive: e.effectiveDirective,
          blocked: e.blockedURI,
          source: e.sourceFile,
          line: e.lineNumber,
          sample: e.sample,
        })}`,
      );
    });
  });
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (isOwn(url)) {
      report.sameOriginRequests += 1;
      await route.continue();
    } else {
      foreign(url);
      await route.abort('blockedbyclient');
    }
  });
  context.on('request', (request) => {
    if (!isOwn(request.url())) foreign(request.url());
  });

  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    const text = msg.text();
    if (text.startsWith('CSP-VIOLATION ')) report.cspViolations.push(JSON.parse(text.slice(14)));
    else if (/Content.Security.Policy/i.test(text)) report.cspViolations.push({ console: text });
    else if (msg.type() === 'error') report.consoleErrors.push(text);
  });
  page.on('pageerror', (err) => report.pageErrors.push(String(err?.stack || err)));
  page.on('websocket', (ws) => {
    report.webSockets.push(ws.url());
    if (!isOwn(ws.url())) foreign(ws.url());
  });

  const response = await page.goto(`${origin}/graphql`, { waitUntil: 'domcontentloaded' });
  report.csp = response?.headers()['content-security-policy'] ?? null;
  check('page status 200', response?.status() === 200, `status ${response?.status()}`);
  check('page has CSP', Boolean(report.csp));
  mark('loaded');

  // The editor is up once Monaco has rendered the default query into the operation editor.
  const queryEditor = page.locator('.graphiql-query-editor .monaco-editor .view-lines');
  await queryEditor.waitFor({ state: 'visible' });
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-query-editor .view-lines')?.textContent || '').trim().length > 0,
  );
  const editorText = normalise(await queryEditor.innerText());
  check('default query in editor', /transcodeSummar/.test(editorText), editorText.slice(0, 200));
  mark('editor');

  // Docs explorer: introspection went through and the root types are listed.
  await page.getByRole('button', { name: /documentation explorer/i }).click();
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.waitFor({ state: 'visible' });
  await docs.getByText('Query', { exact: true }).first().waitFor({ state: 'visible' });
  check('docs explorer lists Query', true);
  mark('docs');

  // Run the default query with the run button, then read the result pane.
  await page.locator('.graphiql-execute-button').click();
  const resultText = await readEditor(page, '.graphiql-response', /VIDEO_NOT_FOUND/);
  report.resultText = resultText;
  report.transcodeStatuses = [...resultText.matchAll(/"transcodeStatus":\s*"([^"]+)"/g)].map((m) => m[1]);
  report.errorCodes = [...resultText.matchAll(/"code":\s*"([^"]+)"/g)].map((m) => m[1]);
  check('result has a transcodeStatus', report.transcodeStatuses.length > 0, resultText.slice(0, 300));
  check('result has VIDEO_NOT_FOUND', report.errorCodes.includes('VIDEO_NOT_FOUND'), resultText.slice(0, 300));
  mark('executed');

  // History plugin records the run.
  await page.getByRole('button', { name: /history/i }).first().click();
  await page.locator('.graphiql-history-items li').first().waitFor({ state: 'visible' });
  check('history has the run', true);

  if (opts['extra-query']) {
    await runTyped(page, opts['extra-query']);
    const extra = await readEditor(page, '.graphiql-response', new RegExp(escapeRe(opts['extra-expect'] || '')));
    report.extraResultText = extra;
    check('extra query result', !opts['extra-expect'] || extra.includes(opts['extra-expect']), extra.slice(0, 300));
    // Back to the default query's result for the screenshot.
    await page.getByRole('button', { name: /history/i }).first().click().catch(() => {});
  }

  // Settle, then the screenshot: docs explorer open, query on the left, result on the right.
  await page.getByRole('button', { name: /documentation explorer/i }).click();
  await docs.waitFor({ state: 'visible' });
  await page.waitForTimeout(300);
  await mkdir(dirname(report.screenshot), { recursive: true });
  await page.screenshot({ path: report.screenshot });
  mark('screenshot');
} catch (err) {
  report.failures.push(`exception: ${err?.stack || err}`);
  if (context) {
    const page = context.pages()[0];
    if (page) {
      await mkdir(dirname(report.screenshot), { recursive: true });
      await page.screenshot({ path: report.screenshot }).catch(() => {});
    }
  }
} finally {
  await context?.close().catch(() => {});
  await rm(userDataDir, { recursive: true, force: true });
}
check('no request left the origin', report.foreignRequests.length === 0, report.foreignRequests.join(' '));
check('no CSP violation', report.cspViolations.length === 0, JSON.stringify(report.cspViolations.slice(0, 5)));
check('no page error', report.pageErrors.length === 0, report.pageErrors.join(' | '));
check('no console error', report.consoleErrors.length === 0, report.consoleErrors.join(' | '));
mark('total');
report.ok = report.failures.length === 0;
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(report.ok ? 0 : 1);

function normalise(text) {
  return text.replace(/\u00a0/g, ' ');
}

function escapeRe(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Monaco renders only the visible lines of an editor: scroll through the pane and collect the
// rendered lines, keyed by their offset in the content, until `want` shows up or nothing new
// appears. Long lines are soft-wrapped, so a match should not span more than a few words.
async function readEditor(page, container, want) {
  const sel = `${container} .monaco-editor .view-lines`;
  const lines = page.locator(sel);
  await lines.waitFor({ state: 'visible' });
  // A response is there once the pane holds JSON; the wanted text may still be on its way
  // (a subscription streams) or below the fold (then the scrolling below finds it).
  await page.waitForFunction((s) => (document.querySelector(s)?.textContent || '').trim().startsWith('{'), sel);
  await page
    .waitForFunction(
      ([s, source]) => new RegExp(source).test((document.querySelector(s)?.textContent || '').replace(/\u00a0/g, ' ')),
      [sel, want.source],
      { timeout: 2000 },
    )
    .catch(() => {});
  const seen = new Map();
  const box = await page.locator(`${container} .monaco-editor`).first().boundingBox();
  const joined = () => [...seen.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]).join('\n');
  let focused = false;
  let idle = 0;
  for (let i = 0; i < 50; i += 1) {
    const rows = await page.evaluate(
      (s) =>
        [...document.querySelectorAll(`${s} .view-line`)].map((r) => [
          parseFloat(r.style.top),
          r.textContent.replace(/\u00a0/g, ' '),
        ]),
      sel,
    );
    const before = seen.size;
    for (const [top, text] of rows) seen.set(top, text);
    idle = seen.size === before ? idle + 1 : 0;
    if (want.test(joined()) || idle >= 3) break;
    if (!focused) {
      await page.locator(`${container} .monaco-editor textarea`).first().focus();
      focused = true;
    }
    await page.keyboard.press('PageDown');
    await page.waitForTimeout(50);
  }
  if (focused) await page.keyboard.press('ControlOrMeta+Home'); // back to the top, for the screenshot
  return joined();
}

// Replace the operation editor's text (insertText: no auto-closing brackets) and run it.
async function runTyped(page, text) {
  await page.locator('.graphiql-query-editor .monaco-editor .view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // GraphiQL re-parses the operation after a short debounce; running before that would send
  // the new text with the previous document's operation type.
  await page.waitForTimeout(750);
  await page.locator('.graphiql-execute-button').click();
}
