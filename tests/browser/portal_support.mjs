// Support in a real browser (issue 25, M9.1, M9.2): acme's IT admin opens a ticket on /support
// (no JavaScript needed: a form), sees it listed, and globex's admin does not; a platform admin
// sees it on the backstage's /tickets and escalates it to Gitea (the contract fake). The test
// (portal_e2etest.cpp, PortalSupportTest) closes the issue and sends Gitea's signed webhook; in
// phase "after" the ticket shows Resolved on both sites.
// Helpdesk is down when the close arrives: phase "integrations" finds the failed call on the
// backstage's /integrations with its error (Helpdesk still down), phase "retry" (it is back)
// retries it there.
//   node portal_support.mjs '{"port":8080,"password":"...","phase":"open|escalate|integrations|retry|after"}'
import { launch, check, signIn, watchedPage, noSeriousAxe } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const site = (label) => `http://${label}.localhost:${cfg.port}`;
const ACME = site('acme'), GLOBEX = site('globex'), BACKSTAGE = site('backstage');
const SUBJECT = 'Exports stop at 90% <b>bold</b>';


// With BREAKPILOT_SCREENSHOTS=DIR: the page in the light and the dark scheme (docs/screenshots/).
async function shoot(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/${name}-${scheme}.png`, fullPage: true });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const browser = await launch();
try {
  const { page } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  if (cfg.phase === 'open') {
    await signIn(page, `${ACME}/login`, 'it@acme.example', cfg.password);
    check(await page.locator('nav a[href="/support"]').count() === 1, 'the nav links support');
    await page.goto(`${ACME}/support`);
    check(await page.locator('#no-tickets').isVisible(), 'no tickets yet');
    await page.fill('#subject', SUBJECT);
    await page.fill('#description', 'The PDF export of March stops at 90%, every time since Monday.');
    const [res] = await submit('#send-ticket');
    check(res.status() === 200 && page.url() === `${ACME}/support?opened=1`, `the ticket is sent (${page.url()})`);
    check(await page.locator('#notice').isVisible(), 'the page says it is open');
    const row = await page.locator('#tickets tbody tr').innerText();
    check(row.includes(SUBJECT) && row.includes('Open') && row.includes('it@acme.example'),
      `the ticket is listed, its subject as text, raised by the signed-in user (${row})`);
    await noSeriousAxe(page, '/support');
    if (process.env.BREAKPILOT_SCREENSHOTS) {
      await shoot(page, 'acme_support');
    }
    // A form sent twice (a double click, a reload): its one-time key opens one ticket.
    const again = await page.evaluate(async (u) => {
      const form = document.querySelector('#new-ticket');
      const data = new URLSearchParams(new FormData(form));
      data.set('subject', 'twice?');
      data.set('description', 'twice?');
      const r = await fetch(u, { method: 'POST', body: data, redirect: 'manual' });
      const r2 = await fetch(u, { method: 'POST', body: data, redirect: 'manual' });
      return [r.type, r2.status];  // the first answered by a redirect (opaque here)
    }, `${ACME}/support`);
    check(again[0] === 'opaqueredirect' && again[1] >= 400 && again[1] < 500, `the same form sent twice opens one ticket (${again})`);
    // A forged post without the form's token is refused.
    const forged = await page.evaluate(async (u) => {
      const r = await fetch(u, { method: 'POST', body: new URLSearchParams({ subject: 'x', description: 'y' }), redirect: 'manual' });
      return r.status;
    }, `${ACME}/support`);
    check(forged === 403, `a post without the CSRF token is refused (${forged})`);
    // Another organisation sees none of acme's tickets.
    const other = await watchedPage(browser);
    await signIn(other.page, `${GLOBEX}/login`, 'it@globex.example', cfg.password);
    await other.page.goto(`${GLOBEX}/support`);
    check(await other.page.locator('#no-tickets').isVisible() &&
      !(await other.page.locator('main').innerText()).includes('Exports stop'), "globex sees no ticket of acme's");
    // And cannot open acme's support page with its own session.
    const cross = await other.page.goto(`${ACME}/support`);
    check(cross.url().startsWith(`${ACME}/login`) || cross.status() >= 400, `acme's page is not globex's (${cross.status()} ${cross.url()})`);
    await other.ctx.close();
  } else if (cfg.phase === 'escalate') {
    await signIn(page, `${BACKSTAGE}/login`, 'sam', cfg.password);
    check(await page.locator('nav a[href="/tickets"]').count() === 1, 'the backstage nav links tickets');
    await page.goto(`${BACKSTAGE}/tickets`);
    const row = page.locator('#tickets tbody tr', { hasText: 'Exports stop' });
    check((await row.innerText()).includes('acme'), 'the ticket shows its organisation');
    const button = row.locator('button[id^="escalate-"]');
    check(await button.count() === 1, 'it can be escalated');
    await Promise.all([page.waitForNavigation(), button.click()]);
    check(page.url() === `${BACKSTAGE}/tickets?escalated=1`, `escalated (${page.url()})`);
    const link = await page.locator('#tickets tbody tr', { hasText: 'Exports stop' }).locator('a.ticket-issue');
    check((await link.innerText()).startsWith('breakpilot/certifai#'), 'the issue is linked');
    await noSeriousAxe(page, '/tickets');
    if (process.env.BREAKPILOT_SCREENSHOTS) {
      await shoot(page, 'backstage_tickets');
    }
  } else if (cfg.phase === 'integrations') {
    await signIn(page, `${BACKSTAGE}/login`, 'sam', cfg.password);
    await page.goto(`${BACKSTAGE}/integrations`);
    const helpdesk = page.locator('#integration-helpdesk');
    check((await helpdesk.locator('.integration-state').innerText()) === 'failing', 'Helpdesk shows failing');
    const failed = helpdesk.locator('table.failed-calls tbody tr');
    check(await failed.count() === 1, `one failed call (${await failed.count()})`);
    const row = await failed.innerText();
    check(row.includes('support:resolve:') && row.includes('503'), `the call with its error (${row})`);
    check(!(await page.locator('main').innerText()).includes('frappe-contract-secret'), 'no credential on the page');
    check((await page.locator('#integration-polar').innerText()).includes('Not configured'), 'Polar is off here');
    await noSeriousAxe(page, '/integrations');
    if (process.env.BREAKPILOT_SCREENSHOTS) {
      await shoot(page, 'backstage_integrations');
    }
  } else if (cfg.phase === 'retry') {
    await signIn(page, `${BACKSTAGE}/login`, 'sam', cfg.password);
    await page.goto(`${BACKSTAGE}/integrations`);
    const failed = page.locator('#integration-helpdesk table.failed-calls tbody tr');
    await Promise.all([page.waitForNavigation(), failed.locator('button.retry').click()]);
    check(page.url() === `${BACKSTAGE}/integrations?retried=1`, `retried, back on the page (${page.url()})`);
  } else {
    await signIn(page, `${ACME}/login`, 'it@acme.example', cfg.password);
    await page.goto(`${ACME}/support`);
    const row = await page.locator('#tickets tbody tr', { hasText: 'Exports stop' }).innerText();
    check(row.includes('Resolved'), `the closed issue resolved the ticket (${row})`);
  }
  console.log('PASS');
} finally {
  await browser.close();
}
