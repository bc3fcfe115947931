// The portal in a real browser (issue 23): sign-in on the public site and the handoff to the
// tenant's site, the organisation picker, API keys made and revoked on the page and checked
// through the API, CSRF and cross-site posts refused, another tenant's site unreachable, links
// hidden by role, sign-out.
//   node portal_flow.mjs '{"port":8080,"password":"...","service_token":"..."}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const D = site(''), ACME = site('acme'), GLOBEX = site('globex');
const api = `http://127.0.0.1:${P}`;

async function verify(secret) {
  const r = await fetch(`${api}/internal/api-keys/verify`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${cfg.service_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ key: secret }),
  });
  return r.json();
}

// A product reports acme's usage (POST /usage, as its service client): the dashboard shows it.
const reported = await fetch(`${api}/usage`, {
  method: 'POST',
  headers: { Authorization: `Bearer ${cfg.service_token}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ product: 'certifai', events: [
    { id: 'flow-1', tenant_id: cfg.acme, metric: 'api_calls', quantity: 42 }] }),
});
check(reported.status === 200, `usage reported (${reported.status})`);

const browser = await launch();
try {
  const { ctx, page, dialogs } = await watchedPage(browser);

  // A wrong password: the form again, with a message, and no session.
  let res = await signIn(page, `${D}/login`, 'ada', 'wrong password');
  check(res.status() === 401, 'a wrong password answers 401');
  check(await page.locator('#error').isVisible(), 'a wrong password shows a message');

  // Sign-in on the public site lands on the tenant's dashboard through the handoff.
  await signIn(page, `${D}/login`, 'ada', cfg.password);
  check(page.url() === `${ACME}/dashboard`, `signed in at D, landed on ${page.url()}`);
  check((await page.textContent('#who')) === 'ada', 'the header names the user');
  check((await page.textContent('#org')) === 'Tenant acme', 'the header names the organisation');
  check((await page.locator('#products').innerText()).includes('CERTifAI'),
    'the dashboard shows the subscribed product');
  check(await page.locator('#trial-banner').isVisible(), 'a trial tenant shows the trial banner');
  const usageRow = page.locator('#usage tr[data-product="certifai"][data-metric="api_calls"]');
  check((await usageRow.innerText()).includes('42'), 'the dashboard shows the reported usage');
  check((await usageRow.locator('meter').getAttribute('max')) === '1000',
    "the usage is shown against the trial's 1000 calls a day");
  check(await page.locator('nav a[href="/settings/api-keys"]').count() === 1,
    'an IT_ADMIN sees the API keys link');
  const cookies = await ctx.cookies(ACME);
  const session = cookies.find((c) => c.name === 'bp_portal');
  check(session && session.httpOnly && session.sameSite === 'Lax', 'the session cookie is HttpOnly, SameSite=Lax');
  check((await ctx.cookies(D)).every((c) => c.name !== 'bp_portal'), 'the public site holds no session cookie');

  // An API key made on the page: its secret shown once, it verifies through the API.
  await page.goto(`${ACME}/settings/api-keys`);
  await page.fill('#key-name', 'ci <script>alert(1)</script>');
  await page.check('input[name="scope"][value="audit:write"]');
  res = (await Promise.all([page.waitForNavigation(), page.click('#create-key-button')]))[0];
  check(res.status() === 201, 'creating a key answers 201');
  const secret = await page.inputValue('#new-secret');
  check(secret.startsWith('bpk_'), 'the new key is shown once, on the answer page');
  check((await page.locator('#keys').innerText()).includes('ci <script>alert(1)</script>'),
    'markup in a name is shown as text');
  check(dialogs() === 0, 'no script ran from a name');
  let v = await verify(secret);
  check(v.valid === true, 'the key made in the portal verifies through /internal/api-keys/verify');
  await page.goto(`${ACME}/settings/api-keys`);
  check(!(await page.content()).includes(secret), 'the secret is not shown again');

  // CSRF: a post without the token, and a post from another origin with it, are refused. The
  // posts are made by the browser itself (fetch), so it sets Origin and Sec-Fetch-Site.
  const csrf = await page.inputValue('#create-key input[name="csrf"]');
  const post = (p, url, form) => p.evaluate(async ([u, f]) => {
    const r = await fetch(u, { method: 'POST', body: new URLSearchParams(f), credentials: 'include',
      mode: u.startsWith(location.origin) ? 'same-origin' : 'no-cors', redirect: 'manual' });
    return r.status;
  }, [url, form]);
  let status = await post(page, `${ACME}/settings/api-keys`, { name: 'x', scope: 'audit:write' });
  check(status === 403, `a post without the CSRF token is refused (${status})`);
  // Another origin of the same site (so the SameSite=Lax cookie goes along): a page served by
  // the test itself, without our CSP, posts a form with the stolen token.
  const other = await ctx.newPage();
  const attacker = site('attacker') + '/x';
  await other.route(attacker, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><p>hi</p>' }));
  await other.goto(attacker);
  const [forged] = await Promise.all([other.waitForNavigation(), other.evaluate(([u, token]) => {
    const f = document.createElement('form');
    f.method = 'post';
    f.action = u;
    for (const [k, v] of Object.entries({ name: 'forged', scope: 'audit:write', csrf: token })) {
      const i = document.createElement('input');
      i.name = k;
      i.value = v;
      f.appendChild(i);
    }
    document.body.appendChild(f);
    f.submit();
  }, [`${ACME}/settings/api-keys`, csrf])]);
  check(forged.status() === 403, `a post from another origin with a valid token is refused (${forged.status()})`);
  await other.close();
  const formKey = await page.inputValue('#create-key input[name="form_key"]');
  status = await post(page, `${ACME}/settings/api-keys`, { name: 'x', scope: 'audit:write', csrf });
  check(status === 400, `a post without the form's one-time key is refused (${status})`);
  const sameForm = { name: 'x', scope: 'audit:write', csrf, form_key: formKey };
  status = await post(page, `${ACME}/settings/api-keys`, sameForm);
  check(status === 201, `the same post from our own page is taken (${status})`);
  status = await post(page, `${ACME}/settings/api-keys`, sameForm);
  check(status === 409, `the same form sent again makes no second key (${status})`);
  await page.goto(`${ACME}/settings/api-keys`);
  check(!(await page.locator('#keys').innerText()).includes('forged'),
    'a post from another origin with a valid token made no key');

  // Rotated on the page with no grace: the new secret shown once, the old one refused at once;
  // the same rotation sent again makes no second key.
  await page.goto(`${ACME}/settings/api-keys`);
  const oldRow = page.locator('tr', { hasText: 'ci <script>' });
  const oldId = await oldRow.getAttribute('data-key');
  await oldRow.locator('select[name="grace"]').selectOption('0');
  [res] = await Promise.all([page.waitForNavigation(), oldRow.locator('button[aria-label^="Rotate"]').click()]);
  const rotated = await page.inputValue('#new-secret');
  check(res.status() === 201 && rotated.startsWith('bpk_') && rotated !== secret, 'rotating shows the new key once');
  check((await verify(rotated)).valid === true, 'the rotated key verifies');
  check((await verify(secret)).valid === false, 'the old key, rotated with no grace, is refused at once');
  status = await post(page, `${ACME}/settings/api-keys/${oldId}/rotate`, { grace: '3600', csrf });
  check(status === 409, `rotating the same key again is refused (${status})`);

  // Revoked on the page, refused by verify at once.
  await page.goto(`${ACME}/settings/api-keys`);
  const row = page.locator('tr', { hasText: 'ci <script>' }).filter({ hasNotText: 'replaced' });
  await Promise.all([page.waitForNavigation(), row.locator('button[aria-label^="Revoke"]').click()]);
  check(await page.locator('#notice').isVisible(), 'revoking says so');
  v = await verify(rotated);
  check(v.valid === false, 'a key revoked in the portal is refused by verify at once');

  // Another tenant's site: no session there; signing in there without membership is refused.
  await page.goto(`${GLOBEX}/dashboard`);
  check(page.url().startsWith(`${GLOBEX}/login`), 'another tenant\'s dashboard sends to its sign-in');
  res = await signIn(page, `${GLOBEX}/login`, 'ada', cfg.password);
  check(res.status() === 403 && await page.locator('#error').isVisible(),
    'a user of acme cannot sign in to globex');
  await page.goto(`${GLOBEX}/settings/api-keys`);
  check(page.url().startsWith(`${GLOBEX}/login`), 'globex\'s keys page stays closed');
  await page.goto(`${site('nosuch')}/dashboard`);
  check((await page.textContent('#error-title')) === 'Not found', 'an unknown slug is a 404 page');

  // The sessions page, then sign-out.
  await page.goto(`${ACME}/settings/sessions`);
  check(await page.locator('#sessions tbody tr').count() >= 1, 'the sessions page lists this browser');
  await Promise.all([page.waitForNavigation(), page.click('#sign-out')]);
  check(page.url() === `${ACME}/login`, 'sign-out lands on the sign-in page');
  await page.goto(`${ACME}/dashboard`);
  check(page.url().startsWith(`${ACME}/login`), 'after sign-out the dashboard is closed');

  // A USER sees no settings links, and the keys page is a 403 page.
  const uctx = await browser.newContext();
  const upage = await uctx.newPage();
  await signIn(upage, `${ACME}/login`, 'uma', cfg.password);
  check(upage.url() === `${ACME}/dashboard`, 'a USER signs in on the tenant\'s own site');
  check(await upage.locator('nav a[href="/settings/api-keys"]').count() === 0, 'a USER sees no API keys link');
  res = await upage.goto(`${ACME}/settings/api-keys`);
  check(res.status() === 403 && (await upage.textContent('#error-title')) === 'Forbidden',
    'a USER opening the keys page gets a 403 page');

  // A member of two organisations picks one.
  const mctx = await browser.newContext({ locale: 'de-DE' });
  const mpage = await mctx.newPage();
  await signIn(mpage, `${D}/login`, 'max', cfg.password);
  check((await mpage.textContent('h1')) === 'Organisation wählen', 'the picker, in German by Accept-Language');
  const globex = mpage.locator('form', { hasText: 'Tenant globex' });
  await Promise.all([mpage.waitForNavigation(), globex.locator('button').click()]);
  check(mpage.url() === `${GLOBEX}/dashboard`, `the picker hands over to the chosen site (${mpage.url()})`);
  check((await mpage.textContent('#org')) === 'Tenant globex', 'signed in to globex');
  check(await mpage.locator('#no-usage').isVisible(), "globex's dashboard shows none of acme's usage");
  console.log('PASS');
} finally {
  await browser.close();
}
