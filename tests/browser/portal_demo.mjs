// P14 in a real browser (M13.2): a sales rep signs in at demo.D and walks the demo (dashboard,
// catalog, audit), records a prospect's "Request trial" (a lead she owns, on the backstage's
// leads); cannot open any other tenant (signing in at acme.D is refused, the backstage
// lists only the demo tenant); picks the backstage on D and resets the demo there.
//   node portal_demo.mjs '{"port":8080,"password":"..."}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const D = site(''), DEMO = site('demo'), ACME = site('acme'), BACKSTAGE = site('backstage');

const browser = await launch();
try {
  const { page } = await watchedPage(browser);
  let res = await signIn(page, `${DEMO}/login`, 'sally', cfg.password);
  check(page.url() === `${DEMO}/dashboard`, `a sales rep signs in at the demo (${page.url()})`);
  for (const path of ['/dashboard', '/catalog', '/audit', '/settings/api-keys']) {
    res = await page.goto(DEMO + path);
    check(res.status() === 200, `the demo's ${path} opens for the rep (${res.status()})`);
  }
  // The prospect asks for a trial: the rep records it, a lead she owns.
  await Promise.all([page.waitForNavigation(), page.click('nav a[href="/request-trial"]')]);
  await page.fill('#company', 'Initech');
  await page.fill('#name', 'Bill Lumbergh');
  await page.fill('#email', 'bill@initech.example');
  await page.selectOption('#product_id', 'compliance');
  await Promise.all([page.waitForNavigation(), page.click('#request-trial-button')]);
  check(page.url() === `${DEMO}/request-trial?requested=1` && await page.locator('#notice').isVisible(),
    `the trial request is recorded (${page.url()})`);

  // No other tenant: signing in at acme is refused; acme's pages send her to sign in.
  const other = await watchedPage(browser);
  res = await signIn(other.page, `${ACME}/login`, 'sally', cfg.password);
  check(res.status() === 403 && other.page.url().startsWith(`${ACME}/login`), `acme refuses the rep (${res.status()})`);
  res = await other.page.goto(`${ACME}/dashboard`);
  check(other.page.url().startsWith(`${ACME}/login`), 'acme has no session for the rep');

  // On D the rep picks the backstage (her other place is the demo).
  const s = await watchedPage(browser);
  await signIn(s.page, `${D}/login`, 'sally', cfg.password);
  const choices = await s.page.locator('form[action="/login/choose"] h2').allInnerTexts();
  check(choices.length === 2 && choices.includes('Backstage'), `the rep chooses between the demo and the backstage (${choices})`);
  await Promise.all([s.page.waitForNavigation(),
    s.page.locator('form[action="/login/choose"]', { hasText: 'Backstage' }).locator('button').click()]);
  check(s.page.url() === `${BACKSTAGE}/`, 'to the backstage');
  await s.page.goto(`${BACKSTAGE}/leads`);
  const leads = await s.page.locator('#leads tbody').innerText();
  check(leads.includes('Initech') && leads.includes('bill@initech.example') && leads.includes('sally'),
    `the prospect's lead is the rep's (${leads})`);
  await s.page.goto(`${BACKSTAGE}/`);
  const tenants = await s.page.locator('#tenants tbody').innerText();
  check(tenants.includes('demo') && !tenants.includes('acme'), 'the backstage lists the demo tenant only');
  await Promise.all([s.page.waitForNavigation(), s.page.click('nav a[href="/demo"]')]);
  check(await s.page.getAttribute('#open-demo', 'href') === `${DEMO}/dashboard`, 'the demo page links the demo');
  await Promise.all([s.page.waitForNavigation(), s.page.click('#reset-demo')]);
  check(s.page.url() === `${BACKSTAGE}/demo?reset=1` && await s.page.locator('#notice').isVisible(), 'the reset is under way');

  // An org user has no backstage.
  const u = await watchedPage(browser);
  res = await signIn(u.page, `${BACKSTAGE}/login`, 'ada', cfg.password);
  check(res.status() === 403, 'an IT_ADMIN cannot sign in to the backstage');
  console.log('PASS');
} finally {
  await browser.close();
}
