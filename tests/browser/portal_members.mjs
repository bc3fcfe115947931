// /settings/users and /settings/identity in a real browser (M5.2): an IT_ADMIN adds an
// existing account, changes its roles and removes members; a removed member's open session
// stops working at once; the last IT_ADMIN cannot be demoted; the sign-in page names the
// identity provider; a USER sees no link and gets a 403 page. Hostile input (markup as
// a username, no role ticked, a member of another organisation, a post without a CSRF token)
// gets a message or an error page and changes nothing.
//   node portal_members.mjs '{"port":8080,"password":"...","gus":"<user id of globex's admin>"}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const ACME = `http://acme.localhost:${P}`;
const USERS = `${ACME}/settings/users`;

const browser = await launch();
try {
  // uma (USER) signs in first and keeps her tab open.
  const u = await watchedPage(browser);
  await signIn(u.page, `${ACME}/login`, 'uma', cfg.password);
  check(await u.page.locator('nav a[href="/settings/users"]').count() === 0, 'a USER sees no users link');
  let res = await u.page.goto(USERS);
  check(res.status() === 403, `a USER opening /settings/users gets a 403 page (${res.status()})`);
  res = await u.page.goto(`${ACME}/settings/identity`);
  check(res.status() === 403, `a USER opening /settings/identity gets a 403 page (${res.status()})`);

  const { page, dialogs } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  const row = (name) => page.locator(`tr[data-member="${name}"]`);
  const idOf = async (name) => (await row(name).locator('form.roles').getAttribute('action')).split('/')[3];
  const roleBox = (name, role) => row(name).locator(`input[name="role"][value="${role}"]`);
  const add = async (username, roles) => {
    await page.goto(USERS);
    await page.fill('#member-username', username);
    for (const box of await page.locator('#add-member input[name="role"]').all()) await box.uncheck();
    for (const r of roles) await page.check(`#add-member input[name="role"][value="${r}"]`);
    return (await submit('#add-member-button'))[0];
  };

  await signIn(page, `${ACME}/login`, 'ada', cfg.password);
  check(await page.locator('nav a[href="/settings/users"]').count() === 1, 'an IT_ADMIN sees the users link');
  await page.click('nav a[href="/settings/identity"]');
  check((await page.textContent('#identity-provider')).includes('built-in'), 'the sign-in page names the built-in identity');
  await page.goto(USERS);
  const listed = await page.locator('#members tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.member));
  check(JSON.stringify(listed) === JSON.stringify(['ada', 'max', 'uma']), `the members, by name: ${listed}`);
  check((await row('ada').innerText()).includes('(you)'), 'the signed-in member is marked');

  // Markup as a username: a message, the text kept as text, nothing added.
  const hostile = '<img src=x onerror=alert(1)>';
  res = await add(hostile, ['USER']);
  check(res.status() === 422 && await page.locator('#error').isVisible(), `markup as a username is a message (${res.status()})`);
  check(await page.inputValue('#member-username') === hostile, 'what was typed is kept, as text');
  res = await add('nobody-here', ['USER']);
  check(res.status() === 422 && (await page.textContent('#error')).includes('no account'), 'an unknown account is a message');
  res = await add('bob', []);
  check(res.status() === 422 && (await page.textContent('#error')).includes('at least one'), 'no role ticked is a message');
  check(await row('bob').count() === 0, 'nothing was added');

  // bob joins as LEGAL; a second add is a message.
  res = await add('Bob', ['LEGAL']);
  check(page.url() === `${USERS}?added=1` && await page.locator('#notice').isVisible(), 'bob is added');
  check(await roleBox('bob', 'LEGAL').isChecked() && !(await roleBox('bob', 'USER').isChecked()), 'bob is LEGAL');
  res = await add('bob', ['USER']);
  check(res.status() === 409 && (await page.textContent('#error')).includes('already'), 'adding bob twice is a message');

  // bob's roles: CXO instead of LEGAL; then none at all, which is refused.
  await page.goto(USERS);
  await roleBox('bob', 'LEGAL').uncheck();
  await roleBox('bob', 'CXO').check();
  await submit('tr[data-member="bob"] form.roles button');
  check(page.url() === `${USERS}?changed=1`, 'the roles were saved');
  check(await roleBox('bob', 'CXO').isChecked() && !(await roleBox('bob', 'LEGAL').isChecked()), 'bob is CXO now');
  await roleBox('bob', 'CXO').uncheck();
  [res] = await submit('tr[data-member="bob"] form.roles button');
  check(res.status() === 422 && await roleBox('bob', 'CXO').isChecked(), 'no role at all is refused; bob stays CXO');

  // Another organisation's member, by id, through a form of this page: not found here.
  const maxId = await idOf('max');
  await page.evaluate((gus) => {
    const f = document.querySelector('tr[data-member="bob"] form.roles');
    f.action = `/settings/users/${gus}/roles`;
  }, cfg.gus);
  await roleBox('bob', 'USER').check();
  [res] = await submit('tr[data-member="bob"] form.roles button');
  check(res.status() === 404, `another organisation's member is not found here (${res.status()})`);

  // A post without the CSRF token: refused, nothing removed.
  await page.goto(USERS);
  await page.evaluate(() => document.querySelectorAll('tr[data-member="bob"] input[name="csrf"]').forEach((e) => e.remove()));
  [res] = await submit('tr[data-member="bob"] button[aria-label^="Remove"]');
  check(res.status() === 403, `a post without the CSRF token is refused (${res.status()})`);

  // max and uma removed; uma's open tab is no longer let in.
  await page.goto(USERS);
  await submit('tr[data-member="max"] button[aria-label^="Remove"]');
  check(page.url() === `${USERS}?removed=1` && await row('max').count() === 0, 'max is removed');
  await submit('tr[data-member="uma"] button[aria-label^="Remove"]');
  check(await row('uma').count() === 0, 'uma is removed');
  res = await u.page.goto(`${ACME}/dashboard`);
  check(res.status() === 403 && await u.page.locator('#products').count() === 0,
    `uma's open session no longer opens acme's dashboard (${res.status()})`);

  // ada is the only IT_ADMIN now: she cannot step down.
  await roleBox('ada', 'IT_ADMIN').uncheck();
  await roleBox('ada', 'USER').check();
  [res] = await submit('tr[data-member="ada"] form.roles button');
  check(res.status() === 409 && (await page.textContent('#error')).includes('only IT_ADMIN'),
    `the last IT admin cannot be demoted (${res.status()})`);
  check(await roleBox('ada', 'IT_ADMIN').isChecked(), 'ada is still IT_ADMIN');
  check(dialogs() === 0 && u.dialogs() === 0, 'no script ran from a field');
  console.log(`max=${maxId}`);
  console.log('PASS');
} finally {
  await browser.close();
}
