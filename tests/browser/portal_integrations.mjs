// /settings/integrations in a real browser (M15.2): an IT_ADMIN adds webhook endpoints (the
// signing secret shown once), sends a test, rotates a secret, disables and enables an endpoint,
// sees a dead delivery in the dead letter and replays it, and deletes an endpoint. An internal
// address is a message and adds nothing; a USER sees no link and gets a 403 page; another
// organisation's admin cannot replay or delete acme's. The test (portal_e2etest.cpp) owns the
// loopback sink and checks what reached it.
//   node portal_integrations.mjs '{"port":8080,"password":"...","ok":"http://127.0.0.1:N/ok",
//                                  "dead":"http://127.0.0.1:N/dead"}'
import { AxeBuilder } from '@axe-core/playwright';
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const ACME = `http://acme.localhost:${P}`;
const GLOBEX = `http://globex.localhost:${P}`;
const PAGE = `${ACME}/settings/integrations`;

// A POST made by the page itself (so the browser sets Origin), with the form `f`.
const post = (p, url, f) => p.evaluate(async ([u, body]) => {
  const r = await fetch(u, { method: 'POST', body: new URLSearchParams(body), redirect: 'manual' });
  return r.status;
}, [url, f]);

const browser = await launch();
try {
  const u = await watchedPage(browser);
  await signIn(u.page, `${ACME}/login`, 'uma', cfg.password);
  check(await u.page.locator('nav a[href="/settings/integrations"]').count() === 0, 'a USER sees no integrations link');
  let res = await u.page.goto(PAGE);
  check(res.status() === 403, `a USER opening /settings/integrations gets a 403 page (${res.status()})`);

  const { page, dialogs } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  const row = (url) => page.locator('#endpoints tbody tr', { has: page.locator(`code:text-is("${url}")`) });
  const add = async (url, types) => {
    await page.goto(PAGE);
    await page.fill('#endpoint-url', url);
    for (const t of types) await page.check(`#create-endpoint input[name="event_type"][value="${t}"]`);
    return (await submit('#create-endpoint-button'))[0];
  };

  await signIn(page, `${ACME}/login`, 'ada', cfg.password);
  check(await page.locator('nav a[href="/settings/integrations"]').count() === 1, 'an IT_ADMIN sees the integrations link');
  await page.click('nav a[href="/settings/integrations"]');
  check(await page.locator('#endpoints').count() === 0, 'no endpoints yet');

  // The cloud metadata address: a message, the URL kept, nothing added.
  const metadata = 'http://169.254.169.254/latest/meta-data';
  res = await add(metadata, []);
  check(res.status() === 422 && (await page.textContent('#error')).includes('not allowed'),
    `a link-local address is refused with a message (${res.status()})`);
  check(await page.inputValue('#endpoint-url') === metadata, 'the URL as typed is kept');
  check(await page.locator('#endpoints').count() === 0, 'nothing was added');

  // An endpoint for api_key.created only: its secret is shown once.
  res = await add(cfg.ok, ['api_key.created']);
  check(res.status() === 201, `adding an endpoint answers 201 (${res.status()})`);
  const secret = await page.inputValue('#new-secret');
  check(secret.startsWith('whsec_'), 'the signing secret is shown, whsec_…');
  check((await row(cfg.ok).innerText()).includes('api_key.created'), 'the endpoint lists its event type');
  // A reload of the answer sends the same form again: nothing is added twice.
  res = await page.reload();
  check(res.status() === 409, `sending the same form twice is refused (${res.status()})`);
  await page.goto(PAGE);
  check(!(await page.content()).includes(secret), 'the secret is not shown again');
  check(await page.locator('#endpoints tbody tr').count() === 1, 'one endpoint, made once');

  // An endpoint for every event that never answers 2xx.
  res = await add(cfg.dead, []);
  check(res.status() === 201 && (await row(cfg.dead).innerText()).includes('all events'), 'a second endpoint takes every event');

  // A test event to each.
  for (const url of [cfg.ok, cfg.dead]) {
    await page.goto(PAGE);
    await submit(`#endpoints tr:has(code:text-is("${url}")) form[action$="/test"] button`);
    check(page.url().endsWith('?tested=1') && await page.locator('#notice').isVisible(), `a test is sent to ${url}`);
  }

  // Rotation with a day's grace: the new secret shown, the old one signs beside it.
  await page.goto(PAGE);
  await row(cfg.ok).locator('select[name="grace"]').selectOption('86400');
  res = (await submit(`#endpoints tr:has(code:text-is("${cfg.ok}")) form[action$="/rotate"] button`))[0];
  const rotated = await page.inputValue('#new-secret');
  check(res.status() === 201 && rotated.startsWith('whsec_') && rotated !== secret, 'rotation shows a new secret');
  check((await row(cfg.ok).innerText()).includes('previous secret also signs until'), 'the grace is shown');

  // An API key made now is an api_key.created event for both endpoints (signed twice at ok).
  await page.goto(`${ACME}/settings/api-keys`);
  await page.fill('#key-name', 'webhook trigger');
  await page.check('input[name="scope"][value="audit:write"]');
  await submit('#create-key-button');

  // The dead endpoint's deliveries reach the dead letter (one attempt each in this test).
  let dead = 0;
  for (let i = 0; i < 100 && dead < 2; i++) {
    await page.goto(PAGE);
    dead = await page.locator('#dead-letter tbody tr').count();
    if (dead < 2) await page.waitForTimeout(200);
  }
  check(dead === 2, `the dead endpoint's two events are in the dead letter (${dead})`);
  const deadRow = page.locator('#dead-letter tbody tr', { has: page.locator('code:text-is("webhook.test")') });
  const deliveryId = await deadRow.getAttribute('data-delivery');
  check((await deadRow.innerText()).includes('HTTP 500'), 'the dead letter shows the last answer');
  check((await page.locator('#recent').innerText()).includes('delivered'), 'the recent deliveries show the successes');
  // The page with every table filled passes axe too (portal_axe sees it empty).
  const bad = (await new AxeBuilder({ page }).analyze()).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, 'no serious or critical axe violation: ' + JSON.stringify(bad.map((v) => v.id)));
  if (process.env.BREAKPILOT_SCREENSHOTS) {  // docs/screenshots/ is made this way
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/acme_settings_integrations-${scheme}.png`, fullPage: true });
    }
    await page.emulateMedia({ colorScheme: 'light' });
  }

  // Disable and enable the failing endpoint.
  await submit(`#endpoints tr:has(code:text-is("${cfg.dead}")) form[action$="/disable"] button`);
  check(page.url().endsWith('?disabled=1') && (await row(cfg.dead).innerText()).includes('disabled'), 'the endpoint is disabled');
  await submit(`#endpoints tr:has(code:text-is("${cfg.dead}")) form[action$="/enable"] button`);
  check(page.url().endsWith('?enabled=1') && (await row(cfg.dead).innerText()).includes('enabled'), 'and enabled again');

  // Another organisation's admin (max, IT_ADMIN of both) on globex's site: acme's delivery and
  // endpoint are not there.
  const endpointId = await row(cfg.dead).getAttribute('data-endpoint');
  const g = await watchedPage(browser);
  await signIn(g.page, `${GLOBEX}/login`, 'max', cfg.password);
  await g.page.goto(`${GLOBEX}/settings/integrations`);
  const gcsrf = await g.page.inputValue('#create-endpoint input[name="csrf"]');
  let status = await post(g.page, `${GLOBEX}/settings/integrations/deliveries/${deliveryId}/replay`, { csrf: gcsrf });
  check(status === 404, `globex's site cannot replay acme's delivery (${status})`);
  status = await post(g.page, `${GLOBEX}/settings/integrations/${endpointId}/delete`, { csrf: gcsrf });
  check(status === 404, `globex's site cannot delete acme's endpoint (${status})`);
  status = await post(page, `${PAGE}/${endpointId}/delete`, {});
  check(status === 403, `a post without the CSRF token is refused (${status})`);

  // Replay the dead test delivery: it leaves the dead letter and is tried again.
  await page.goto(PAGE);
  await submit(`#dead-letter tr[data-delivery="${deliveryId}"] button`);
  check(page.url().endsWith('?replayed=1') && await page.locator('#notice').isVisible(), 'the dead delivery is replayed');
  // A delivered event is not in the dead letter: replaying it is a message, not an error page.
  await page.goto(PAGE);
  const delivered = await page.locator('#recent tr[data-state="succeeded"]').first().getAttribute('data-delivery');
  const csrf = await page.inputValue('#create-endpoint input[name="csrf"]');
  status = await post(page, `${PAGE}/deliveries/${delivered}/replay`, { csrf });
  check(status === 409, `replaying a delivered event is refused (${status})`);

  // Delete the failing endpoint.
  await page.goto(PAGE);
  await submit(`#endpoints tr:has(code:text-is("${cfg.dead}")) form[action$="/delete"] button`);
  check(page.url().endsWith('?deleted=1') && await row(cfg.dead).count() === 0, 'the endpoint is deleted');
  check(await row(cfg.ok).count() === 1, 'the other stays');
  check(dialogs() === 0, 'no script ran');
  console.log('PASS');
} finally {
  await browser.close();
}
