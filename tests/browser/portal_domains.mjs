// Custom domains in a real browser (issue 26, M18.1): acme's IT admin adds portal.acme.test on
// /settings/domains (no JavaScript needed: forms), reads the CNAME to create, checks it while
// the test's DNS server does not serve it yet (pending, with what was found), and again once it
// does (verified); axe on both states. The test (portal_e2etest.cpp, PortalDomainsTest) changes
// the DNS server between the phases and then reaches the domain over https through Caddy.
//   node portal_domains.mjs '{"port":8080,"password":"...","phase":"add|verify|remove"}'
import { launch, check, signIn, watchedPage, noSeriousAxe } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const ACME = `http://acme.localhost:${cfg.port}`;


const browser = await launch();
try {
  const { page } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  await signIn(page, `${ACME}/login`, 'ada', cfg.password);
  check(await page.locator('nav a[href="/settings/domains"]').count() === 1, 'the nav links domains');
  await page.goto(`${ACME}/settings/domains`);
  const card = page.locator('[data-domain="portal.acme.test"]');
  if (cfg.phase === 'add') {
    check(await page.locator('#no-domains').isVisible(), 'no domains yet');
    await page.fill('#domain', 'localhost');
    const [bad] = await submit('#add-domain-button');
    check(bad.status() === 422 && await page.locator('#error').isVisible(), `a bad name is refused (${bad.status()})`);
    await page.fill('#domain', 'Portal.Acme.Test');
    const [made] = await submit('#add-domain-button');
    check(made.status() === 200 && page.url().startsWith(`${ACME}/settings/domains?added=1`), `added (${page.url()})`);
    check((await card.locator('.cname-target').innerText()) === 'acme.localhost', 'the CNAME to create is shown');
    check((await card.locator('.txt-value').innerText()).startsWith('breakpilot-verify='), 'and the TXT alternative');
    const [pending] = await submit('button[id="check-portal.acme.test"]');
    check(pending.status() === 200 && page.url().includes('pending=1'), `not there yet (${page.url()})`);
    check((await card.locator('.domain-error').innerText()).includes('no CNAME'), 'the check says what it found');
    await noSeriousAxe(page, '/settings/domains (pending)');
    if (process.env.BREAKPILOT_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/acme_domains-light.png`, fullPage: true });
    }
  } else if (cfg.phase === 'verify') {
    const [verified] = await submit('button[id="check-portal.acme.test"]');
    check(verified.status() === 200 && page.url().includes('verified=1'), `verified (${page.url()})`);
    check((await card.locator('.domain-status').innerText()).includes('verified'), 'the domain shows verified');
    await noSeriousAxe(page, '/settings/domains (verified)');
  } else {
    const [gone] = await submit('button[id="remove-portal.acme.test"]');
    check(gone.status() === 200 && page.url().includes('removed=1'), `removed (${page.url()})`);
    check(await page.locator('#no-domains').isVisible(), 'no domains left');
  }
  console.log('PASS');
} finally {
  await browser.close();
}
