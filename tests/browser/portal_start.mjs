// P15 in a real browser (M12.1): a prospect starts a trial on the public site's /start; the test
// (portal_e2etest.cpp) reads the confirmation mail from the SMTP server and hands its link to the
// second phase, where the new admin picks a password and lands signed in on the new tenant's
// dashboard with the trial banner. Hostile input (markup, a bad slug, a stale form, a password
// typed twice differently, a reused link) gets a message on the page and creates nothing.
//   node portal_start.mjs '{"port":8080,"password":"...","phase":"request"}'
//   node portal_start.mjs '{"port":8080,"password":"...","phase":"confirm","link":"...","link2":"..."}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const D = site(''), INITECH = site('initech'), HOOLI = site('hooli');

const browser = await launch();
try {
  const { page, dialogs } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  const startTrial = async (company, slug, email) => {
    await page.goto(`${D}/start`);
    await page.fill('#company_name', company);
    await page.fill('#slug', slug);
    await page.fill('#email', email);
    return (await submit('#start-button'))[0];
  };

  if (cfg.phase === 'request') {
    await page.goto(D);
    await Promise.all([page.waitForNavigation(), page.click('#start-link')]);
    check(page.url() === `${D}/start`, 'the public home page links to /start');
    // A bad slug: the form again with the message, and everything typed kept as text.
    let res = await startTrial('Initech <img src=x onerror=alert(1)>', 'Bad Slug', 'owner@initech.example');
    check(res.status() === 422 && await page.locator('#error').isVisible(), `a bad slug is a message (${res.status()})`);
    check(await page.inputValue('#company_name') === 'Initech <img src=x onerror=alert(1)>', 'the company is kept as typed, as text');
    // A stale form: its token no longer matches the cookie.
    await page.fill('#slug', 'initech');
    await page.evaluate(() => { document.querySelector('input[name="csrf"]').value = 'stale'; });
    [res] = await submit('#start-button');
    check(res.status() === 403 && (await page.textContent('#error')).includes('out of date'), 'a stale form is refused with a message');
    // The real thing.
    res = await startTrial('Initech <b>GmbH</b>', 'initech', 'Owner@Initech.example');
    check(page.url() === `${D}/start?sent=1` && await page.locator('#notice').isVisible(), 'the page says a mail is on its way');
    res = await startTrial('Hooli', 'hooli', 'max@acme.example');
    check(page.url() === `${D}/start?sent=1`, 'a second trial, for the address of an existing user');
  } else {
    // The link: GET shows what will be made and changes nothing.
    let res = await page.goto(cfg.link);
    check(res.status() === 200, 'the mailed link opens the confirmation page');
    const facts = await page.locator('#facts').innerText();
    check(facts.includes('Initech <b>GmbH</b>') && facts.includes(INITECH), 'it shows the company (as text) and the address');
    // Two different passwords, then a short one past the browser's minlength: messages.
    await page.fill('#password', cfg.password);
    await page.fill('#password_again', cfg.password + 'x');
    [res] = await submit('#confirm-button');
    check(res.status() === 422 && (await page.textContent('#error')).includes('differ'), 'passwords that differ are a message');
    await page.evaluate(() => document.querySelectorAll('input[type=password]').forEach((e) => e.removeAttribute('minlength')));
    await page.fill('#password', 'short');
    await page.fill('#password_again', 'short');
    [res] = await submit('#confirm-button');
    check(res.status() === 422 && (await page.textContent('#error')).includes('12'), 'a short password is a message');
    await page.fill('#password', cfg.password);
    await page.fill('#password_again', cfg.password);
    [res] = await submit('#confirm-button');
    check(page.url() === `${INITECH}/dashboard`, `the new admin lands on the dashboard (${page.url()})`);
    check((await page.locator('#trial-banner').innerText()).includes('14'), 'with the trial banner: 14 days left');
    check(await page.locator('nav a[href="/settings/api-keys"]').count() === 1, 'as the IT_ADMIN of the new organisation');
    // The link again: used, a message and a way on.
    res = await page.goto(cfg.link);
    check(res.status() === 409 && (await page.textContent('#error')).includes('sign in'), 'a used link says so');
    // The new admin signs in with the address and the password chosen.
    const again = await watchedPage(browser);
    res = await signIn(again.page, `${INITECH}/login`, 'owner@initech.example', cfg.password);
    check(again.page.url() === `${INITECH}/dashboard`, 'the new admin signs in with the address');

    // An existing user's address: no password asked; the organisation is added, their own
    // password signs them in there.
    await page.goto(cfg.link2);
    check(await page.locator('#password').count() === 0, 'an existing account is not asked for a new password');
    [res] = await submit('#confirm-button');
    check(page.url().startsWith(`${HOOLI}/login`), `an existing user signs in on the new site (${page.url()})`);
    await page.fill('#username', 'max@acme.example');
    await page.fill('#password', cfg.password);
    await submit('#sign-in');
    check(page.url() === `${HOOLI}/dashboard`, 'with their own password, onto the new dashboard');
    check(dialogs() === 0 && again.dialogs() === 0, 'no script ran from any field');
  }
  console.log('PASS');
} finally {
  await browser.close();
}
