// A real browser for the dashboard's tests: Debian's chromium driven by playwright-core, headless.
// Every console error and uncaught page error fails the test. Screenshots go to the folder in
// WISP_UI_SCREENSHOTS (the README's images: `WISP_UI_SCREENSHOTS=docs/screenshots`), else a temp
// dir, named in the test's output. Without chromium the test is skipped loudly
// (scripts/ensure-test-tools.mjs installs it for `npm test` where it can).
import type { Test } from 'tap';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { tempDir } from './temp-dir.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

export interface BrowserPage {
  page: Page;
  /** Saves a full-page screenshot as NAME.png in the test's screenshot folder. */
  shoot(name: string): Promise<void>;
  /** Fails the test with every console error, page error and outside request seen so far. */
  assertClean(): void;
}

export async function openBrowser(t: Test): Promise<BrowserPage | undefined> {
  if (!CHROMIUM) {
    // A plan of 0 with a reason is tap's "skipped".
    t.plan(0, '*** chromium is not installed (apt-get install -y chromium): the dashboard browser tests are SKIPPED ***');
    return undefined;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  t.teardown(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    // Chromium logs every non-2xx fetch; a 401 is how the page learns that it needs a token.
    if (message.type() === 'error' && !/^Failed to load resource: the server responded with a status of 401\b/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  // Nothing may come from outside the machine.
  page.on('request', (request) => {
    const { hostname } = new URL(request.url());
    if (hostname !== '127.0.0.1' && hostname !== 'localhost' && !request.url().startsWith('data:')) problems.push(`request outside the machine: ${request.url()}`);
  });
  const folder = resolve(process.env.WISP_UI_SCREENSHOTS ?? tempDir());
  mkdirSync(folder, { recursive: true });
  t.comment(`screenshots in ${folder}`);
  return {
    page,
    shoot: async (name) => void (await page.screenshot({ path: join(folder, `${name}.png`), fullPage: true })),
    assertClean: () => t.same(problems, [], 'no errors in the browser, no request outside the machine'),
  };
}
