// P16 in a real browser (M14.1): an IT_ADMIN cancels the organisation with a reason and its
// slug typed to confirm; the portal turns read-only (a write is a 402 page, nothing made); staff
// reactivate it on the backstage; it is writable again and nothing was lost. A wrong slug and
// an over-long reason are messages on the page that change nothing; a USER sees no way to cancel.
//   node portal_cancel.mjs '{"port":8080,"password":"..."}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const D = site(''), ACME = site('acme'), BACKSTAGE = site('backstage');

const browser = await launch();
try {
  const { page, dialogs } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  const makeKey = async (name) => {
    await page.goto(`${ACME}/settings/api-keys`);
    if (await page.locator('#key-name').count() === 0) return 0;  // no form: read-only
    await page.fill('#key-name', name);
    await page.check('input[name="scope"][value="audit:write"]');
    return (await submit('#create-key-button'))[0].status();
  };

  await signIn(page, `${D}/login`, 'ada', cfg.password);
  check(await makeKey('before cancel') === 201, 'a key made before cancelling');
  check(await page.locator('nav a[href="/settings/organisation"]').count() === 1,
    'an IT_ADMIN sees the organisation link');
  await page.goto(`${ACME}/settings/organisation`);
  check((await page.textContent('#org-status')) === 'Trial', 'the organisation page shows the status');

  // A wrong slug: the form again, open, the reason kept, nothing changed.
  await page.click('summary');
  await page.fill('#reason', 'too <em>expensive</em>');
  await page.fill('#confirm', 'acme-typo');
  let [res] = await submit('#cancel-button');
  check(res.status() === 422 && await page.locator('#error').isVisible(), `a wrong slug is a message (${res.status()})`);
  check(await page.inputValue('#reason') === 'too <em>expensive</em>', 'the reason is kept as typed, as text');
  check((await page.textContent('#org-status')) === 'Trial', 'a wrong slug changes nothing');
  // An over-long reason (the browser's maxlength bypassed).
  await page.evaluate(() => document.getElementById('reason').removeAttribute('maxlength'));
  await page.fill('#reason', 'x'.repeat(5000));
  await page.fill('#confirm', 'acme');
  [res] = await submit('#cancel-button');
  check(res.status() === 422 && (await page.textContent('#org-status')) === 'Trial',
    `an over-long reason is refused and changes nothing (${res.status()})`);

  // The right slug: frozen, read-only.
  await page.fill('#reason', 'too <em>expensive</em>');
  await page.fill('#confirm', 'acme');
  [res] = await submit('#cancel-button');
  check(page.url() === `${ACME}/settings/organisation?cancelled=1` && await page.locator('#notice').isVisible(),
    'cancelling says so');
  check((await page.textContent('#org-status')) === 'Frozen (read-only)', 'the organisation is frozen');
  check((await page.locator('#cancelled').innerText()).includes('too <em>expensive</em>'),
    'the reason is shown as text');
  check(await page.locator('#cancel-form').count() === 0, 'a frozen organisation offers no cancel form');
  await page.goto(`${ACME}/dashboard`);
  check(await page.locator('#frozen-banner').isVisible(), 'the dashboard says it is read-only');
  check(await makeKey('while frozen') === 0, 'a frozen organisation shows no form to make a key');
  // The form posted anyway (as a tab opened before the freeze would): a 402 page.
  const csrf = await page.getAttribute('form.who input[name="csrf"]', 'value');
  await page.evaluate((token) => {
    document.querySelector('main').insertAdjacentHTML('beforeend',
      '<form method="post" action="/settings/api-keys"><input name="form_key" value="k1">' +
      '<input name="name" value="while frozen"><input name="scope" value="audit:write">' +
      '<input type="hidden" name="csrf" id="forged-csrf"><button id="go">go</button></form>');
    document.getElementById('forged-csrf').value = token;
  }, csrf);
  [res] = await submit('#go');
  check(res.status() === 402, `a key cannot be made while frozen (${res.status()} page)`);
  check((await page.textContent('#error-title')) === 'Read-only', 'the 402 page says read-only');
  await page.goto(`${ACME}/settings/api-keys`);
  const keys = await page.locator('#keys').innerText();
  check(keys.includes('before cancel') && !keys.includes('while frozen'), 'reads work; nothing was made');

  // The billing page: the frozen status, until when it can come back, the subscriptions, and
  // no invoices pretended.
  res = await page.goto(`${ACME}/billing`);
  check(res.status() === 200 && (await page.textContent('#billing-status')) === 'Frozen (read-only)', 'billing shows the status');
  check((await page.textContent('#billing-facts')).includes('reactivated until'), 'and until when it can be reactivated');
  check((await page.locator('#subscriptions').innerText()).toLowerCase().includes('certifai'), 'and the subscriptions');
  check(await page.locator('#no-invoices').isVisible(), 'and says invoices are not shown yet');

  // A USER: no link, a 403 page.
  const u = await watchedPage(browser);
  await signIn(u.page, `${ACME}/login`, 'uma', cfg.password);
  check(await u.page.locator('nav a[href="/billing"]').count() === 0, 'a USER sees no billing link');
  res = await u.page.goto(`${ACME}/billing`);
  check(res.status() === 403, `a USER opening /billing gets 403 (${res.status()})`);
  check(await u.page.locator('nav a[href="/settings/organisation"]').count() === 0, 'a USER sees no organisation link');
  res = await u.page.goto(`${ACME}/settings/organisation`);
  check(res.status() === 403, 'a USER opening the organisation page gets 403');

  // Staff reactivate it on the backstage.
  const s = await watchedPage(browser);
  await signIn(s.page, `${D}/login`, 'sam', cfg.password);
  // The backstage's search: part of the name or slug, any case; the status filter; text only.
  const search = async (q, status = '') => {
    await s.page.goto(`${BACKSTAGE}/`);
    await s.page.fill('#tenant-q', q);
    await s.page.selectOption('#tenant-status', status);
    return (await Promise.all([s.page.waitForNavigation(), s.page.click('#tenant-search-button')]))[0];
  };
  const listed = () => s.page.locator('#tenants tbody td:nth-child(2)').allTextContents();
  await search('ACM');
  check(JSON.stringify(await listed()) === '["acme"]', 'searching "ACM" finds acme only');
  await search('', 'frozen');
  check(JSON.stringify(await listed()) === '["acme"]', 'the frozen ones: acme');
  await search('glob', 'frozen');
  check(await s.page.locator('#no-tenants').isVisible(), 'globex is not frozen: nothing matches');
  check(await s.page.inputValue('#tenant-q') === 'glob', 'the search stays in its field');
  res = await s.page.goto(`${BACKSTAGE}/?status=bogus`);
  check(res.status() === 400 && await s.page.locator('#error').isVisible(), `a made-up status is a 400 page (${res.status()})`);
  await s.page.goto(`${BACKSTAGE}/`);
  await Promise.all([s.page.waitForNavigation(), s.page.click('#tenants a:text("Tenant acme")')]);
  check(s.page.url() === `${BACKSTAGE}/tenants/acme`, 'the backstage links to the tenant');
  check((await s.page.textContent('#tenant-status')) === 'Frozen (read-only)', 'the backstage shows it frozen');
  check((await s.page.locator('#facts').innerText()).includes('too <em>expensive</em>'), 'with the reason');
  await Promise.all([s.page.waitForNavigation(), s.page.click('#reactivate-button')]);
  check((await s.page.textContent('#tenant-status')) === 'Active' && await s.page.locator('#notice').isVisible(),
    'staff reactivated it');
  res = await s.page.goto(`${BACKSTAGE}/tenants/nosuch`);
  check(res.status() === 404, 'an unknown tenant on the backstage is a 404 page');

  // Writable again, nothing lost.
  await page.goto(`${ACME}/dashboard`);
  check(await page.locator('#frozen-banner').count() === 0, 'the read-only banner is gone');
  check(await makeKey('after reactivation') === 201, 'a key can be made again');
  const after = await page.locator('#keys').innerText();
  check(after.includes('before cancel') && after.includes('after reactivation'), 'nothing was lost');
  check(dialogs() === 0 && s.dialogs() === 0, 'no script ran from a reason');
  console.log('PASS');
} finally {
  await browser.close();
}
