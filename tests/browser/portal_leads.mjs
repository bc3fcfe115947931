// P13 in a real browser (M11.1, M13.2): a platform admin makes sally acme's sales owner on the
// backstage's tenant page; an IT_ADMIN of acme asks for a product on the catalog page; the lead appears on the backstage for acme's sales owner (sally) and for an admin, not
// for another sales rep (sid); a USER sees the catalog without a Request button; a note with
// markup stays text.
//   node portal_leads.mjs '{"port":8080,"password":"..."}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const D = site(''), ACME = site('acme'), BACKSTAGE = site('backstage');
const NOTE = '<script>alert(1)</script> 40 seats, please';

const browser = await launch();
try {
  const { page, dialogs } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);

  const staff = await watchedPage(browser);
  await signIn(staff.page, `${BACKSTAGE}/login`, 'sam', cfg.password);
  await staff.page.goto(`${BACKSTAGE}/tenants/acme`);
  const reps = await staff.page.locator('#sales-owner-select option').allTextContents();
  check(reps.includes('sally') && reps.includes('sid') && !reps.includes('ada'), `only sales reps to choose (${reps})`);
  await staff.page.selectOption('#sales-owner-select', 'sally');
  await Promise.all([staff.page.waitForNavigation(), staff.page.click('#sales-owner-button')]);
  check(staff.page.url() === `${BACKSTAGE}/tenants/acme?owner=1` &&
    (await staff.page.textContent('#sales-owner')) === 'sally', 'sally owns acme now');
  // A made-up owner, posted past the list, is a message and changes nothing.
  await staff.page.evaluate(() => { document.querySelector('#sales-owner-select option').value = 'ada'; });
  await staff.page.selectOption('#sales-owner-select', 'ada');
  const [refused] = await Promise.all([staff.page.waitForNavigation(), staff.page.click('#sales-owner-button')]);
  check(refused.status() === 422 && (await staff.page.textContent('#sales-owner')) === 'sally', `not a sales rep: refused (${refused.status()})`);
  await staff.ctx.close();

  await signIn(page, `${D}/login`, 'ada', cfg.password);
  check(await page.locator('nav a[href="/catalog"]').count() === 1, 'the nav links the catalog');
  await page.goto(`${ACME}/catalog`);
  check((await page.locator('#product-certifai').innerText()).includes('Subscribed'), 'a subscribed product is marked');
  check(await page.locator('#request-certifai').count() === 0, 'a subscribed product has no Request button');
  await page.fill('#note-breakpilot-compliance', NOTE);
  await submit('#request-breakpilot-compliance');
  check(page.url() === `${ACME}/catalog?requested=1` && await page.locator('#notice').isVisible(), 'the request is confirmed');
  check((await page.locator('#product-breakpilot-compliance').innerText()).includes('Requested'), 'the product shows as requested');
  check(await page.locator('#request-breakpilot-compliance').count() === 0, 'no second Request button');

  // A USER sees the catalog, and no way to request.
  const u = await watchedPage(browser);
  await signIn(u.page, `${ACME}/login`, 'uma', cfg.password);
  await u.page.goto(`${ACME}/catalog`);
  check(await u.page.locator('#catalog form').count() === 0, 'a USER sees no Request button');

  // The sales owner sees the lead on the backstage; the note is text.
  const s = await watchedPage(browser);
  await signIn(s.page, `${D}/login`, 'sally', cfg.password);
  check(s.page.url() === `${BACKSTAGE}/`, `a sales rep lands on the backstage (${s.page.url()})`);
  const nav = await s.page.locator('nav').innerText();
  check(nav.includes('Leads'), 'a sales rep sees the leads link');
  check(await s.page.locator('#tenants a[href="/tenants/acme"]').count() === 0, 'a sales rep sees no customer tenant');
  let res = await s.page.goto(`${BACKSTAGE}/tenants/acme`);
  check(res.status() === 404 || res.status() === 403, `a sales rep cannot open a customer tenant (${res.status()})`);
  await s.page.goto(`${BACKSTAGE}/leads`);
  const leads = await s.page.locator('#leads').innerText();
  check(leads.includes('acme') && leads.includes('breakpilot-compliance') && leads.includes('ada'), 'the lead shows for its sales owner');
  check(leads.includes(NOTE), 'the note is shown as text');

  // Another sales rep does not see it; an admin does.
  const o = await watchedPage(browser);
  await signIn(o.page, `${D}/login`, 'sid', cfg.password);
  await o.page.goto(`${BACKSTAGE}/leads`);
  check(await o.page.locator('#no-leads').isVisible(), "another sales rep sees none of sally's leads");
  const a = await watchedPage(browser);
  await signIn(a.page, `${D}/login`, 'sam', cfg.password);
  await a.page.goto(`${BACKSTAGE}/tenants/acme`);
  check((await a.page.textContent('#sales-owner')) === 'sally', 'the tenant page names the sales owner');
  await a.page.goto(`${BACKSTAGE}/leads`);
  check((await a.page.locator('#leads').innerText()).includes('breakpilot-compliance'), 'an admin sees every lead');
  check(dialogs() + s.dialogs() + a.dialogs() === 0, 'no script ran from the note');
  console.log('PASS');
} finally {
  await browser.close();
}
