// Shared by the browser tests: Debian's Chromium driven by playwright-core (never a
// downloaded browser), started as the machine notes say it must be here (no background
// networking), and a small check helper that fails the script with a clear message.
import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.BREAKPILOT_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...extraArgs],
  });
}

export function check(cond, message) {
  if (!cond) {
    console.error(`FAILED: ${message}`);
    process.exit(1);
  }
  console.log(`ok: ${message}`);
}

// Fills and submits the sign-in form on the page's current site.
export async function signIn(page, url, username, password) {
  await page.goto(url);
  await page.fill('#username', username);
  await page.fill('#password', password);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('#sign-in'),
  ]);
  return response;
}

// A fresh context and page that count (and dismiss) every dialog: a script injected through
// a field would show one. `dialogs()` is how many appeared so far.
export async function watchedPage(browser, options = {}) {
  const ctx = await browser.newContext(options);
  const page = await ctx.newPage();
  let count = 0;
  page.on('dialog', (d) => { count++; d.dismiss(); });
  return { ctx, page, dialogs: () => count };
}

// Fails the script when axe-core finds a serious or critical violation on the page as it is.
export async function noSeriousAxe(page, what) {
  const bad = (await new AxeBuilder({ page }).analyze()).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `${what}: no serious or critical axe violation: ${JSON.stringify(bad.map((v) => v.id))}`);
}
