// The final export's download page on D in a real browser (M14.2): the mailed link opens a page
// that says what the file is; its button downloads the ZIP, whose size and SHA-256 match the
// page; a tampered link and another site are 404 pages; axe finds nothing serious on it.
//   node portal_export.mjs '{"port":8080,"link":"http://localhost:8080/exports/…?token=…"}'
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AxeBuilder } from '@axe-core/playwright';
import { launch, check, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const D = `http://localhost:${cfg.port}`;

const browser = await launch();
try {
  const { page, dialogs } = await watchedPage(browser, { acceptDownloads: true });
  let res = await page.goto(cfg.link);
  check(res.status() === 200 && cfg.link.startsWith(`${D}/exports/`), `the mailed link opens the page on D (${res.status()})`);
  check(await page.textContent('#export-org') === cfg.tenant, 'it names the organisation');
  check(res.headers()['referrer-policy'] === 'same-origin', 'the token in its address never leaves for another site');
  const sha = (await page.textContent('#export-sha256')).trim();
  const size = Number(await page.textContent('#export-size'));
  const filename = (await page.textContent('#export-file')).trim();
  const axe = await new AxeBuilder({ page }).analyze();
  const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `no serious or critical axe violation (${bad.map((v) => v.id)})`);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const bytes = await readFile(await download.path());
  check(download.suggestedFilename() === filename, `the file is ${filename}`);
  check(bytes.length === size && bytes.subarray(0, 2).toString() === 'PK', `a ZIP of the size shown (${bytes.length})`);
  check(createHash('sha256').update(bytes).digest('hex') === sha, 'with the SHA-256 shown');

  // The language switch keeps the link's token: the page comes back in German, still the file.
  await Promise.all([page.waitForNavigation(), page.selectOption('#lang', 'de').then(() => page.click('footer button'))]);
  check(new URL(page.url()).searchParams.get('token') === new URL(cfg.link).searchParams.get('token'),
    `the switch kept the token (${page.url().replace(/token=.*/, 'token=…')})`);
  check(await page.getAttribute('html', 'lang') === 'de' && await page.isVisible('#download'),
    'the page in German, the download still there');

  // A tampered token, a made-up export, the page on a tenant's site: 404 pages, no file.
  const url = new URL(cfg.link);
  const token = url.searchParams.get('token');
  const tampered = `${url.origin}${url.pathname}?token=${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
  for (const [what, target] of [['a tampered token', tampered],
    ['another export', `${D}/exports/00000000-0000-7000-8000-000000000000?token=${token}`],
    ['no token', `${url.origin}${url.pathname}`],
    ['the download without the token', `${url.origin}${url.pathname}/download`],
    ['a tenant\'s site', cfg.link.replace('//localhost', '//acme.localhost')]]) {
    res = await page.goto(target);
    check(res.status() === 404 && await page.locator('#error-title').isVisible(), `${what}: a 404 page (${res.status()})`);
  }
  check(dialogs() === 0, 'no script ran');
  if (process.env.BREAKPILOT_SCREENSHOTS) {
    await page.goto(cfg.link);
    await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/export-light.png`, fullPage: true });
  }
  console.log('PASS');
} finally {
  await browser.close();
}
