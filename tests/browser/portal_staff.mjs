// The backstage's users and service clients (M5.2) in a real browser: a platform admin finds a
// user by name with their organisations, adds a staff member who then signs in, and makes a
// service client whose secret is shown once and works at the token endpoint. Markup in a field
// and a duplicate are messages on the page.
//   node portal_staff.mjs '{"port":8080,"password":"...","api":"http://127.0.0.1:8080"}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const BACKSTAGE = `http://backstage.localhost:${cfg.port}`;

const browser = await launch();
try {
  const { page, dialogs } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  await signIn(page, `${BACKSTAGE}/login`, 'sam', cfg.password);
  check(await page.locator('nav a[href="/users"]').count() === 1 &&
    await page.locator('nav a[href="/service-clients"]').count() === 1, 'a platform admin sees both links');

  await page.goto(`${BACKSTAGE}/users`);
  check(await page.locator('#users tr[data-user="sam"]').count() === 1, 'the users are listed');
  await page.fill('#user-q', 'AD');
  await submit('#user-search-button');
  check(await page.locator('#users tbody tr').count() === 1 &&
    (await page.textContent('#users tr[data-user="ada"]')).includes('acme'), 'a search finds ada, with her organisation');

  const addStaff = async (username, role, password) => {
    await page.goto(`${BACKSTAGE}/users`);
    await page.evaluate(() => document.querySelectorAll('#add-staff [required]').forEach((e) => e.removeAttribute('required')));
    await page.fill('#staff-username', username);
    await page.fill('#staff-name', `${username} <b>new</b>`);
    await page.selectOption('#staff-role', role);
    await page.fill('#staff-password', password);
    return (await submit('#add-staff-button'))[0];
  };
  const hostile = 'x<img src=x onerror=alert(1)>';
  let res = await addStaff(hostile, 'SUPPORT_ENGINEER', 'a first password 0123');
  check(res.status() === 422 && (await page.textContent('#error')).length > 0, `a bad username is a message (${res.status()})`);
  check(await page.inputValue('#staff-username') === hostile, 'what was typed comes back as text');
  res = await addStaff('sue', 'SUPPORT_ENGINEER', '');
  check(res.status() === 422, 'no first password: a message');
  res = await addStaff('sue', 'SUPPORT_ENGINEER', 'a first password 0123');
  check(page.url().startsWith(`${BACKSTAGE}/users?created=1`) && await page.isVisible('#notice'), 'the staff member is added');
  check((await page.textContent('#users tr[data-user="sue"]')).includes('Support engineer'), 'with the role');
  res = await addStaff('sue', 'SALES_REP', 'a first password 0123');
  check(res.status() === 409, `a taken username is a message (${res.status()})`);

  const sue = await watchedPage(browser);
  await signIn(sue.page, `${BACKSTAGE}/login`, 'sue', 'a first password 0123');
  check(sue.page.url() === `${BACKSTAGE}/`, `sue signs in to the backstage (${sue.page.url()})`);

  await page.goto(`${BACKSTAGE}/service-clients`);
  check(await page.isVisible('#no-clients'), 'no service client yet');
  await page.fill('#client-id', 'billing-bot');
  await submit('#add-client-button');
  const secret = await page.inputValue('#new-secret');
  check(secret.length >= 32 && (await page.textContent('#clients tr[data-client="billing-bot"]')).includes('SERVICE'), 'the client and its secret, once');
  const token = await fetch(`${cfg.api}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`billing-bot:${secret}`).toString('base64')}` },
    body: 'grant_type=client_credentials',
  });
  check(token.status === 200, `the secret works at the token endpoint (${token.status})`);
  await page.goto(`${BACKSTAGE}/service-clients`);
  check(await page.locator('#new-secret').count() === 0 && !(await page.content()).includes(secret), 'and is never shown again');
  await page.fill('#client-id', 'billing-bot');
  res = (await submit('#add-client-button'))[0];
  check(res.status() === 409 && await page.isVisible('#error'), `a taken client id is a message (${res.status()})`);
  check(dialogs() === 0 && sue.dialogs() === 0, 'no script ran from a field');
  console.log('PASS');
} finally {
  await browser.close();
}
