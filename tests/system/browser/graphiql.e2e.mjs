// End-to-end check of the GraphiQL explorer in headless Debian Chromium (playwright-core).
//
//   node tests/system/browser/graphiql.e2e.mjs --url http://127.0.0.1:PORT [--screenshot PATH]
//        [--emulator-url http://127.0.0.1:EMU]   (its clock is advanced to finish the subscription)
//        [--api-key KEY]                         (the gateway requires it: typed into the Headers)
//
// Opens <url>/graphql as a browser would, blocks and records every request (HTTP or WebSocket)
// that leaves the gateway's origin, waits for the editor and the schema, runs the default query
// with the run button, reads the result pane, then runs the "Progress" tab's subscription over
// a WebSocket and reads its events in the result pane (until it completes, when the emulator's
// clock can be advanced; else until Stop). Collects CSP violations, console and page errors.
// Screenshots: PATH (the query's result) and PATH with "-subscription" (an event, streaming).
// Prints one JSON report on stdout; exits 1 if any check failed (pytest reads the report).
// Checks about the subscription are also listed in report.subscription.failures.
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
    'emulator-url': { type: 'string' },
    'api-key': { type: 'string' },
  },
});
if (!opts.url) throw new Error('--url is required');
const origin = new URL(opts.url).origin;
const ownWs = `${origin.startsWith('https:') ? 'wss' : 'ws'}://${new URL(opts.url).host}`;
const timeout = Number(opts['timeout-ms']);
const apiKey = opts['api-key'];
const authHeaders = apiKey ? JSON.stringify({ Authorization: `Bearer ${apiKey}` }) : null;

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
  tabs: [],
  transcodeStatuses: [],
  errorCodes: [],
  resultText: '',
  unauthenticatedText: null,
  subscription: {
    failures: [],
    webSocketUrl: null,
    connectionInit: null,
    framesSent: [],
    binaryFramesReceived: 0,
    firstEventText: '',
    finalText: '',
    refusedText: null,
    events: [],
    ended: null,
  },
  screenshot: resolve(opts.screenshot),
  subscriptionScreenshot: resolve(opts.screenshot).replace(/(\.png)?$/, '-subscription.png'),
  expectedConsoleErrors: [],
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
  return Boolean(ok);
};
const checkSub = (name, ok, detail) => {
  if (!ok) report.subscription.failures.push(detail ? `${name}: ${detail}` : name);
  return check(`subscription: ${name}`, ok, detail);
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
  // WebSockets bypass context.route: block and record foreign ones here, pass our own through.
  await context.routeWebSocket(/.*/, (ws) => {
    if (isOwn(ws.url())) ws.connectToServer();
    else {
      foreign(ws.url());
      ws.close({ code: 1008, reason: 'blocked by the e2e test' });
    }
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
    ws.on('framesent', ({ payload }) => {
      const message = parseFrame(payload);
      report.subscription.framesSent.push(message?.type ?? String(payload).slice(0, 80));
      if (message?.type === 'connection_init') report.subscription.connectionInit = message.payload ?? null;
    });
    // graphql-transport-ws messages are JSON text; a browser hands binary frames to the client as
    // Blobs, which graphql-ws cannot parse ("Message is missing the 'type' property").
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string') report.subscription.binaryFramesReceived += 1;
    });
  });

  const response = await page.goto(`${origin}/graphql`, { waitUntil: 'domcontentloaded' });
  report.csp = response?.headers()['content-security-policy'] ?? null;
  check('page status 200', response?.status() === 200, `status ${response?.status()}`);
  check('page has CSP', Boolean(report.csp));
  const connectSrc = (report.csp || '').split(';').map((d) => d.trim().split(/\s+/)).find((d) => d[0] === 'connect-src');
  report.connectSrc = connectSrc?.slice(1) ?? null;
  check(
    "CSP connect-src is 'self' and the page's own WebSocket origin",
    JSON.stringify(report.connectSrc) === JSON.stringify(["'self'", ownWs]),
    JSON.stringify(report.connectSrc),
  );
  mark('loaded');

  // The editor is up once Monaco has rendered the default query into the operation editor.
  const queryEditor = page.locator('.graphiql-query-editor .monaco-editor .view-lines');
  await queryEditor.waitFor({ state: 'visible' });
  await page.waitForFunction(
    () => (document.querySelector('.graphiql-query-editor .view-lines')?.textContent || '').trim().length > 0,
  );
  const editorText = normalise(await queryEditor.innerText());
  check('default query in editor', /transcodeSummar/.test(editorText), editorText.slice(0, 200));
  report.tabs = (await page.locator('.graphiql-tab .graphiql-tab-button').allInnerTexts()).map((t) => t.trim());
  check('default tabs: Summaries, Progress', report.tabs.join(',') === 'Summaries,Progress', report.tabs.join(','));
  // The headers editor is open on first load (API keys go there).
  const headersTool = page.locator('section.graphiql-editor-tool[aria-label="Headers"]');
  check('headers editor shown', await headersTool.locator('.graphiql-editor:not(.hidden)').isVisible());
  mark('editor');

  if (apiKey) {
    // The page loaded without a key; the query is refused until the Headers carry it.
    await page.locator('.graphiql-execute-button').click();
    report.unauthenticatedText = await readEditor(page, '.graphiql-response', /UNAUTHENTICATED/);
    check('without a key the query is refused', /UNAUTHENTICATED/.test(report.unauthenticatedText), report.unauthenticatedText.slice(0, 300));
    await setHeaders(page, authHeaders);
    await page.getByRole('button', { name: /re-fetch graphql schema/i }).click();
    mark('api key typed');
  }

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

  // Settle, then the screenshot: docs explorer open, query on the left, result on the right.
  await page.getByRole('button', { name: /documentation explorer/i }).click();
  await docs.waitFor({ state: 'visible' });
  await page.waitForTimeout(300);
  await mkdir(dirname(report.screenshot), { recursive: true });
  await page.screenshot({ path: report.screenshot });
  mark('screenshot');

  await runSubscription(page);
  mark('subscription');
} catch (err) {
  report.failures.push(`exception: ${err?.stack || err}`);
  if (report.timingsMs.screenshot !== undefined) report.subscription.failures.push(`exception: ${err?.message || err}`);
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
if (apiKey) {
  // Chromium logs the refused requests made before the key was typed (introspection, first run).
  report.expectedConsoleErrors = report.consoleErrors.filter((e) => /status of 401/.test(e));
  report.consoleErrors = report.consoleErrors.filter((e) => !/status of 401/.test(e));
}
check('no console error', report.consoleErrors.length === 0, report.consoleErrors.join(' | '));
report.subscription.ok = report.subscription.failures.length === 0;
mark('total');
report.ok = report.failures.length === 0;
process.stdout.write(`${JSON.stringify(report)}\n`);
process.exit(report.ok ? 0 : 1);

function normalise(text) {
  return text.replace(/\u00a0/g, ' ');
}

function parseFrame(payload) {
  try {
    return JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return null;
  }
}

function responseText(page) {
  return page.evaluate(() => (document.querySelector('.graphiql-response .view-lines')?.textContent || '').replace(/\u00a0/g, ' '));
}

// Whether the result pane matches `want` within `ms` (Monaco renders spaces as U+00A0).
function waitForResponse(page, want, ms) {
  return page
    .waitForFunction(
      (source) =>
        new RegExp(source).test(
          (document.querySelector('.graphiql-response .view-lines')?.textContent || '').replace(/\u00a0/g, ' '),
        ),
      want.source,
      { timeout: ms },
    )
    .then(() => true)
    .catch(() => false);
}

function executeLabel(page) {
  return page.locator('.graphiql-execute-button').getAttribute('aria-label');
}

// The "Progress" tab: a subscription over a WebSocket on this origin, its events in the result
// pane. With --api-key: refused at once without it (no retry storm), then run with the key typed
// into this tab's Headers, which the page sends as the connection_init payload.
async function runSubscription(page) {
  const sub = report.subscription;
  const tab = page.locator('.graphiql-tab .graphiql-tab-button', { hasText: 'Progress' });
  if (!checkSub('Progress tab', (await tab.count()) === 1)) return;
  await tab.click();
  await page.waitForFunction(() => /subscription/.test(document.querySelector('.graphiql-query-editor .view-lines')?.textContent || ''));
  await page.waitForTimeout(750); // GraphiQL re-reads the operation (type, name) after a debounce

  if (apiKey) {
    const started = Date.now();
    await page.locator('.graphiql-execute-button').click();
    await waitForResponse(page, /API key/, 10000);
    sub.refusedText = await responseText(page);
    sub.refusedAfterMs = Date.now() - started;
    checkSub('without a key the WebSocket is refused, saying what to send', /4403[\s\S]*Authorization[\s\S]*connection_init/.test(sub.refusedText), sub.refusedText.slice(0, 300));
    checkSub('refusal shown within 10 s (no retries)', sub.refusedAfterMs < 10000, `${sub.refusedAfterMs} ms`);
    await setHeaders(page, authHeaders);
    sub.connectionInit = null;
  }

  await page.locator('.graphiql-execute-button').click();
  const wantEvent = /"transcodeSummaryUpdates":\s*\{[\s\S]*"transcodeStatus":\s*"([A-Z_]+)"[\s\S]*"progress":\s*(\d+)/;
  // Wait for an event, or for an error (then there is nothing more to wait for).
  await waitForResponse(page, new RegExp(`${wantEvent.source}|"errors"`), 20000);
  const gotEvent = wantEvent.test(await responseText(page));
  sub.firstEventText = await responseText(page);
  sub.webSocketUrl = report.webSockets.at(-1) ?? null;
  sub.events.push(sub.firstEventText.match(wantEvent)?.slice(1, 3) ?? null);
  checkSub('an event in the result pane', gotEvent, `${sub.firstEventText.slice(0, 300)} (binary frames received: ${sub.binaryFramesReceived})`);
  checkSub('server frames are text', sub.binaryFramesReceived === 0, `${sub.binaryFramesReceived} binary frames`);
  checkSub('WebSocket to this origin\'s /graphql', sub.webSocketUrl === `${ownWs}/graphql`, sub.webSocketUrl);
  const expectedInit = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  checkSub('connection_init payload is the Headers editor\'s JSON', JSON.stringify(sub.connectionInit) === JSON.stringify(expectedInit), JSON.stringify(sub.connectionInit));
  if (!gotEvent) return;
  checkSub('first event is of a video still transcoding', /"transcodeStatus":\s*"(?:PROCESSING|PARTIAL)"/.test(sub.firstEventText), sub.firstEventText.slice(0, 300));
  checkSub('run button turns into Stop while subscribed', /^Stop/.test((await executeLabel(page)) || ''), await executeLabel(page));
  await page.waitForTimeout(300);
  await mkdir(dirname(report.subscriptionScreenshot), { recursive: true });
  await page.screenshot({ path: report.subscriptionScreenshot });

  if (opts['emulator-url'] && !apiKey) {
    // Jobs finish when the emulator's clock passes their end: the last events carry final states,
    // then the gateway completes the subscription and the button is a run button again.
    const advanced = await fetch(new URL('/_emulator/clock', opts['emulator-url']), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advance: 600 }),
    });
    checkSub('emulator clock advanced', advanced.ok, `status ${advanced.status}`);
    const completed = await page
      .waitForFunction(() => /^Execute/.test(document.querySelector('.graphiql-execute-button')?.getAttribute('aria-label') || ''), null, { timeout: 20000 })
      .then(() => true)
      .catch(() => false);
    sub.finalText = await responseText(page);
    sub.events.push(sub.finalText.match(wantEvent)?.slice(1, 3) ?? null);
    sub.ended = completed ? 'completed' : null;
    checkSub('subscription completes once the videos finish', completed, await executeLabel(page));
    checkSub('last event carries a final status', /"transcodeStatus":\s*"COMPLETE_/.test(sub.finalText), sub.finalText.slice(0, 300));
  } else {
    // Stop: the page sends "complete" for the operation and the button is a run button again.
    await page.locator('.graphiql-execute-button').click();
    const stopped = await page
      .waitForFunction(() => /^Execute/.test(document.querySelector('.graphiql-execute-button')?.getAttribute('aria-label') || ''), null, { timeout: 10000 })
      .then(() => true)
      .catch(() => false);
    await page.waitForTimeout(300);
    sub.finalText = await responseText(page);
    sub.ended = stopped ? 'stopped' : null;
    checkSub('Stop ends the subscription', stopped, await executeLabel(page));
    checkSub('Stop sends "complete" to the gateway', sub.framesSent.includes('complete'), sub.framesSent.join(','));
  }
}

// Replace the active tab's headers (a Monaco JSON editor) with `text`.
async function setHeaders(page, text) {
  const editor = page.locator('section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden)');
  await editor.locator('.view-lines').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  await page.waitForTimeout(300);
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
