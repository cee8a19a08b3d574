// The example progress page (examples/progress-page) in headless Debian Chromium (playwright-core).
//
//   node tests/system/browser/progress-page.e2e.mjs --page URL --emulator-url URL --screenshot PATH
//
// Opens the page (its URL names the gateway and the videos), then advances the emulator's clock by
// 60 s every 300 ms until every bar's subscription has completed, sampling the bars as it goes.
// Prints one JSON report: each bar's values in the order seen, the final statuses, the streamed list.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: opts } = parseArgs({
  options: {
    page: { type: 'string' },
    'emulator-url': { type: 'string' },
    screenshot: { type: 'string', default: 'test-artifacts/progress-page.png' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH || '/usr/bin/chromium' },
  },
});

const report = { bars: {}, statuses: {}, list: [], notes: [], pageErrors: [], consoleErrors: [], failures: [] };
const browser = await chromium.launch({
  executablePath: opts.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  page.on('pageerror', (error) => report.pageErrors.push(String(error)));
  page.on('console', (message) => message.type() === 'error' && report.consoleErrors.push(message.text()));
  await page.goto(opts.page);
  const deadline = Date.now() + 60_000;
  let complete = false;
  while (Date.now() < deadline && !complete) {
    const sample = await page.evaluate(() => ({
      bars: [...document.querySelectorAll('#bars li')].map((li) => [li.dataset.video, li.querySelector('progress').value, li.dataset.status ?? '']),
      complete: document.body.dataset.subscription === 'complete' && document.body.dataset.list === 'complete',
    }));
    for (const [video, value, status] of sample.bars) {
      const seen = (report.bars[video] ??= []);
      if (seen.at(-1) !== value) seen.push(value);
      report.statuses[video] = status;
    }
    complete = sample.complete;
    if (!complete) {
      await fetch(`${opts['emulator-url']}/_emulator/clock`, { method: 'POST', body: JSON.stringify({ advance: 60 }) });
      await page.waitForTimeout(300);
    }
  }
  if (!complete) report.failures.push('the subscription or the list did not complete within 60 s');
  report.list = await page.$$eval('#list li', (items) => items.map((li) => li.textContent));
  report.notes = await page.$$eval('#notes li', (items) => items.map((li) => li.textContent));
  await mkdir(dirname(opts.screenshot), { recursive: true });
  await page.screenshot({ path: opts.screenshot });
  report.screenshot = opts.screenshot;
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
