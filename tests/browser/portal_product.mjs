// /products/{id} in a real browser (M5.2): a product with a web component runs in the portal's
// shadow-DOM host and gets the tenant, the user and a short-lived token for itself; the page's
// CSP admits the component's origin, other pages do not; a module that fails to load is a
// message. A headless product shows its API, its docs and the tenant's keys for it. A product
// the tenant has not got, or another tenant's, is a 404 page.
//   node portal_product.mjs '{"port":8080,"password":"...","tenant_id":"<acme's id>"}'
import { readFileSync } from 'node:fs';
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const ACME = `http://acme.localhost:${P}`, GLOBEX = `http://globex.localhost:${P}`;
const SCRIPT = 'https://widgets.example/test-product.js';
const module = readFileSync(new URL('./fixtures/test-product.js', import.meta.url), 'utf8');

const browser = await launch();
try {
  const { ctx, page, dialogs } = await watchedPage(browser);
  // The product's origin, served by the test: the module, with the CORS header an ES module
  // from another origin needs.
  await ctx.route(SCRIPT, (r) => r.fulfill({
    contentType: 'text/javascript', body: module, headers: { 'Access-Control-Allow-Origin': '*' } }));
  await signIn(page, `${ACME}/login`, 'ada', cfg.password);
  let res = await page.goto(`${ACME}/dashboard`);
  check(!res.headers()['content-security-policy'].includes('widgets.example'), 'the dashboard admits no product origin');
  [res] = await Promise.all([page.waitForNavigation(), page.click('#products a[href="/products/widget"]')]);
  check(res.status() === 200 && page.url() === `${ACME}/products/widget`, 'the dashboard tile opens the product');
  const csp = res.headers()['content-security-policy'];
  check(csp.includes("script-src 'self' https://widgets.example;") && csp.includes("frame-ancestors 'none'"),
    `the product page admits the component's origin only: ${csp}`);
  const inHost = (id) => page.locator(`#product-host test-product #${id}`);
  await inHost('hello').waitFor();
  check(await page.evaluate(() => document.getElementById('product-host').shadowRoot?.firstElementChild?.localName) === 'test-product',
    'the component is an element in the host\'s shadow root');
  check(await inHost('hello').textContent() === 'Hello Tenant acme', 'it renders with the tenant it was given');
  check(await inHost('tenant-slug').textContent() === 'acme' && await inHost('tenant-id').textContent() === cfg.tenant_id,
    'the tenant: slug and id');
  check(await inHost('user').textContent() === 'ada', 'the user');
  check(await inHost('token-org').textContent() === cfg.tenant_id && await inHost('token-aud').textContent() === 'widget',
    'a token for this tenant, for this product');
  check(await inHost('token-ttl').textContent() === '300', 'valid for 300 seconds');
  check(await page.locator('#product-loading').isHidden(), 'the loading note is gone');

  // Token refresh: on demand (and on a timer before expiry) a new token, for the same tenant and
  // product, set on the element and announced to it; without the session's CSRF token, refused.
  const first = await page.evaluate(() => document.querySelector('#product-host').shadowRoot.firstElementChild.token);
  const renewed = await page.evaluate(() => document.querySelector('#product-host').shadowRoot.firstElementChild.refreshToken());
  check(renewed !== first && await page.evaluate(() => document.querySelector('#product-host').shadowRoot.firstElementChild.token) === renewed,
    'a renewed token is set on the element');
  check(await inHost('token-refreshes').textContent() === '1' && await inHost('token-org').textContent() === cfg.tenant_id,
    'and announced to it, for the same tenant');
  const forged = await page.evaluate(async () => (await fetch('/products/widget/token', { method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=stale' })).status);
  check(forged === 403, `without the CSRF token: refused (${forged})`);
  const headless = await page.evaluate(async (csrf) => (await fetch('/products/certifai/token', { method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}` })).status,
    await page.getAttribute('#product-host', 'data-csrf'));
  check(headless === 404, `a product without a web component has no token here (${headless})`);

  // The module cannot be loaded: a message, not an empty box.
  const { ctx: ctx2, page: p2 } = await watchedPage(browser);
  await ctx2.route(SCRIPT, (r) => r.abort());
  await signIn(p2, `${ACME}/login`, 'ada', cfg.password);
  await p2.goto(`${ACME}/products/widget`);
  await p2.locator('#product-error').waitFor();
  check(await p2.locator('#product-error').isVisible(), 'a module that fails to load is a message');

  // A headless product: its API, its docs, the tenant's key for it (not the other product's).
  res = await page.goto(`${ACME}/products/certifai`);
  check(res.status() === 200 && await page.textContent('#product-api') === 'https://api.certifai.example',
    'a headless product shows its API');
  check(await page.getAttribute('#product-docs', 'href') === 'https://docs.certifai.example/', 'and its docs');
  const keys = await page.locator('#product-keys').innerText();
  check(keys.includes('certifai key') && !keys.includes('widget key'), 'and the tenant\'s keys for it only');

  // No such product, a product not subscribed, another tenant's site.
  res = await page.goto(`${ACME}/products/nosuch`);
  check(res.status() === 404, `an unknown product is a 404 page (${res.status()})`);
  const m = await watchedPage(browser);
  await signIn(m.page, `${GLOBEX}/login`, 'max', cfg.password);
  res = await m.page.goto(`${GLOBEX}/products/widget`);
  check(res.status() === 404, `a product globex has not got is a 404 page there (${res.status()})`);
  check(dialogs() === 0, 'no script ran from data');
  console.log('PASS');
} finally {
  await browser.close();
}
