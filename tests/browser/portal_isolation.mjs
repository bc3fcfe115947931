// Physical isolation on the backstage, in a real browser (issue 26, M18.2): staff open acme's
// tenant page, see its data in the shared tables, isolate it (a form, no JavaScript needed),
// and watch the page report echo-bot's move until every product keeps acme's data apart; the
// form is gone afterwards (moving back is not offered). axe on both states.
//   node portal_isolation.mjs '{"port":8080,"password":"...","rows":300}'
import { launch, check, signIn, watchedPage, noSeriousAxe } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const D = `http://localhost:${cfg.port}`;
const BACKSTAGE = `http://backstage.localhost:${cfg.port}`;

const browser = await launch();
try {
  const { page } = await watchedPage(browser);
  await signIn(page, `${D}/login`, 'sam', cfg.password);
  await page.goto(`${BACKSTAGE}/tenants/acme`);
  check((await page.textContent('#isolation-state')) === 'Shared tables (default)',
    'acme starts in the shared tables');
  check(await page.locator('#isolation-products').count() === 0, 'no product has moved anything');
  await noSeriousAxe(page, 'backstage tenant (shared)');

  await page.selectOption('#isolation-select', 'schema');
  const [res] = await Promise.all([page.waitForNavigation(), page.click('#isolate-button')]);
  check(res.status() === 200 && page.url() === `${BACKSTAGE}/tenants/acme?isolation=1`,
    `the request is taken (${res.status()} ${page.url()})`);
  check(await page.locator('#notice').isVisible(), 'the page says the products are moving it');
  check(await page.locator('#isolation-products tr[data-product="echo-bot"]').count() === 1,
    'echo-bot is listed with its progress');

  // The page shows the products' progress as they report it; reload until it is over.
  const deadline = Date.now() + 60_000;
  let state = '';
  while (Date.now() < deadline) {
    await page.goto(`${BACKSTAGE}/tenants/acme`);
    state = await page.textContent('#isolation-state');
    if (state !== 'Moving to a place of its own') break;
    await page.waitForTimeout(300);
  }
  check(state === 'Kept apart in every product', `acme is isolated (${state})`);
  const row = page.locator('#isolation-products tr[data-product="echo-bot"]');
  check((await row.locator('.phase').innerText()) === 'done', 'echo-bot is done');
  check((await row.locator('.rows').innerText()) === `${cfg.rows} / ${cfg.rows}`,
    `every row moved (${await row.locator('.rows').innerText()})`);
  check(await page.locator('#isolation-form').count() === 0, 'no form to move it again');
  await noSeriousAxe(page, 'backstage tenant (isolated)');
  // The same page in German: the state, steps and form are the page's own strings.
  const de = await watchedPage(browser, { locale: 'de-DE' });
  await signIn(de.page, `${D}/login`, 'sam', cfg.password);
  await de.page.goto(`${BACKSTAGE}/tenants/acme`);
  check((await de.page.textContent('#isolation-state')) === 'In jedem Produkt getrennt gehalten',
    'the German page says so in German');
  check((await de.page.locator('#isolation-products tr[data-product="echo-bot"] .phase').innerText()) === 'fertig',
    'and names the step in German');
  if (process.env.BREAKPILOT_SCREENSHOTS) {
    await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/backstage_isolation.png`, fullPage: true });
    await de.page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/de_backstage_isolation.png`, fullPage: true });
  }
  console.log('PASS');
} finally {
  await browser.close();
}
