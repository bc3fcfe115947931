// Self-serve money in a real browser (issue 25, M8.3): a prospect starts a trial on /start, the
// test (portal_e2etest.cpp, PortalBillingTest) hands the mailed link to phase "buy", where the new
// admin picks a password, opens /billing, buys Professional and follows the link to Polar's
// checkout (the contract fake). The test pays there and sends Polar's signed webhooks; in phase
// "after" the admin signs in again and sees the organisation active with the payment, the
// Polar customer portal one click away.
//   node portal_billing.mjs '{"port":8080,"password":"...","phase":"start"}'
//   node portal_billing.mjs '{"port":8080,"password":"...","phase":"buy","link":"...","polar":"http://127.0.0.1:N"}'
//   node portal_billing.mjs '{"port":8080,"password":"...","phase":"after","polar":"http://127.0.0.1:N"}'
import { AxeBuilder } from '@axe-core/playwright';
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const D = `http://localhost:${cfg.port}`;
const UMBRELLA = `http://umbrella.localhost:${cfg.port}`;

const browser = await launch();
try {
  const { page } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  if (cfg.phase === 'start') {
    await page.goto(`${D}/start`);
    await page.fill('#company_name', 'Umbrella');
    await page.fill('#slug', 'umbrella');
    await page.fill('#email', 'owner@umbrella.example');
    await submit('#start-button');
    check(page.url() === `${D}/start?sent=1`, 'the trial is asked for');
  } else if (cfg.phase === 'buy') {
    await page.goto(cfg.link);
    await page.fill('#password', cfg.password);
    await page.fill('#password_again', cfg.password);
    await submit('#confirm-button');
    check(page.url() === `${UMBRELLA}/dashboard`, `the new admin is signed in (${page.url()})`);
    await page.goto(`${UMBRELLA}/billing`);
    check((await page.locator('#billing-status').innerText()).toLowerCase().includes('trial'), 'billing shows the trial');
    check(await page.locator('#buy-starter').count() === 1 && await page.locator('#buy-professional').count() === 1, 'the plans sold through Polar are offered');
    check(await page.locator('#polar-orders').count() === 0, 'no payment yet');
    const [res] = await submit('#buy-professional');
    check(res.status() === 200 && page.url() === `${UMBRELLA}/billing/upgrade`, 'buying leads to the continue page');
    const href = await page.getAttribute('#continue-link', 'href');
    check(href.startsWith(`${cfg.polar}/checkout/polar_c_`), `it links to Polar's checkout (${href})`);
    await submit('#continue-link');
    check(page.url() === href && (await page.title()).includes('Polar checkout'), 'the browser is at Polar');
  } else {
    const res = await signIn(page, `${UMBRELLA}/login`, 'owner@umbrella.example', cfg.password);
    check(res.status() === 200 && page.url() === `${UMBRELLA}/dashboard`, 'the paying admin signs in');
    check(await page.locator('#trial-banner').count() === 0, 'no trial banner any more');
    await page.goto(`${UMBRELLA}/billing?paid=1`);
    check(await page.locator('#notice').isVisible(), 'the page thanks for the payment');
    check((await page.locator('#billing-status').innerText()).toLowerCase().includes('active'), 'the organisation is active');
    check((await page.locator('#billing-plan').innerText()).toLowerCase().includes('professional'), 'on Professional');
    const paid = await page.locator('#polar-orders tbody tr').innerText();
    check(paid.includes('58.31 EUR') && paid.includes('9.31 EUR'), `the payment with its tax as Polar charged it (${paid})`);
    const found = await page.locator('#invoices tbody tr').count();
    check(found === 1, `one invoice listed (${found}): ${(await page.locator('main').innerText()).split('Invoices').pop()}`);
    const invoice = await page.locator('#invoices tbody tr').innerText();
    check(invoice.includes('BP-SINV-') && invoice.includes('58.31') && invoice.includes('EUR'), `the invoice from ERPNext (${invoice})`);
    // The page with the plans, the subscription and the payment passes axe.
    const bad = (await new AxeBuilder({ page }).analyze()).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical');
    check(bad.length === 0, 'no serious or critical axe violation: ' + JSON.stringify(bad.map((v) => v.id)));
    if (process.env.BREAKPILOT_SCREENSHOTS) {
      await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/umbrella_billing.png`, fullPage: true });
    }
    await submit('#payment-methods');
    const href = await page.getAttribute('#continue-link', 'href');
    check(href.startsWith(`${cfg.polar}/portal?customer_session_token=`), `payment methods are at Polar's customer portal (${href})`);
    // A forged post without the form's token changes nothing.
    const forged = await page.evaluate(async (u) => {
      const r = await fetch(u, { method: 'POST', body: new URLSearchParams({ plan: 'starter' }), redirect: 'manual' });
      return r.status;
    }, `${UMBRELLA}/billing/upgrade`);
    check(forged === 403, `a post without the CSRF token is refused (${forged})`);
  }
  console.log('PASS');
} finally {
  await browser.close();
}
