// Feature flags on the backstage in a real browser (issue 26, M19.1): a platform admin adds a
// flag targeting acme on /flags (no JavaScript needed: forms), sees its rule, is refused bad
// rules with the form kept, turns the flag on for everyone and back, and deletes it; a support
// engineer sees the flags but no form; a tenant's admin has no such page. The test
// (portal_e2etest.cpp, PortalFlagsTest) checks what OFREP answers between the phases.
//   node portal_flags.mjs '{"port":8080,"password":"...","acme":"<id>","phase":"add|toggle|delete"}'
import { launch, check, signIn, watchedPage, noSeriousAxe } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const site = (label) => `http://${label}.localhost:${cfg.port}`;
const ACME = site('acme'), BACKSTAGE = site('backstage');


const browser = await launch();
try {
  const { page } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  await signIn(page, `${BACKSTAGE}/login`, 'sam', cfg.password);
  check(await page.locator('nav a[href="/flags"]').count() === 1, 'the backstage nav links flags');
  await page.goto(`${BACKSTAGE}/flags`);
  if (cfg.phase === 'add') {
    check(await page.locator('#no-flags').isVisible(), 'no flags yet');
    // Rules that are no JSON array: refused, the form kept.
    await page.fill('#flag-key', 'new-editor');
    await page.fill('#flag-default', 'false');
    await page.fill('#flag-description', 'The new editor');
    await page.fill('#flag-rules', '{"tenants": nope');
    const [bad] = await submit('#add-flag-button');
    check(bad.status() === 422, `bad rules are a 422 page (${bad.status()})`);
    check((await page.locator('#error').innerText()).includes('JSON array'), 'the error names what is wrong');
    check(await page.inputValue('#flag-key') === 'new-editor', 'the key is kept');
    // A rule naming a plan that does not exist: the field's own message.
    await page.fill('#flag-rules', '[{"plans":["gold"],"value":true}]');
    const [invalid] = await submit('#add-flag-button');
    check(invalid.status() === 422 && (await page.locator('#error').innerText()).includes('rules/0/plans/0'),
      `a bad plan is named (${await page.locator('#error').innerText()})`);
    await page.fill('#flag-rules', `[{"tenants":["${cfg.acme}"],"value":true}]`);
    const [made] = await submit('#add-flag-button');
    check(made.status() === 200 && page.url().startsWith(`${BACKSTAGE}/flags?saved=1`), `added (${page.url()})`);
    const row = await page.locator('#flag-new-editor').innerText();
    check(row.includes('tenants acme') && row.includes('off'), `the rule names the tenant by its slug, the default is off (${row})`);
    await page.locator('#flag-new-editor details summary').click();
    await noSeriousAxe(page, '/flags');
    if (process.env.BREAKPILOT_SCREENSHOTS) {
      for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/backstage_flags-${scheme}.png`, fullPage: true });
      }
    }
    // A post without the CSRF token is refused.
    const forged = await page.evaluate(async (u) => {
      const r = await fetch(u, { method: 'POST', body: new URLSearchParams({ default: 'true' }), redirect: 'manual' });
      return r.status;
    }, `${BACKSTAGE}/flags/new-editor`);
    check(forged === 403, `a post without the CSRF token is refused (${forged})`);
    // A support engineer reads, and changes nothing.
    const other = await watchedPage(browser);
    await signIn(other.page, `${BACKSTAGE}/login`, 'sue', cfg.password);
    await other.page.goto(`${BACKSTAGE}/flags`);
    check(await other.page.locator('#flag-new-editor').count() === 1, 'support sees the flag');
    check(await other.page.locator('form').filter({ has: other.page.locator('button[id^="toggle-"], #add-flag-button') }).count() === 0,
      'and no form to change it');
    await other.ctx.close();
    // A tenant's admin has no flags page on the tenant's site.
    const ada = await watchedPage(browser);
    await signIn(ada.page, `${ACME}/login`, 'ada', cfg.password);
    const res = await ada.page.goto(`${ACME}/flags`);
    check(res.status() === 404, `no flags page on a tenant's site (${res.status()})`);
    await ada.ctx.close();
  } else if (cfg.phase === 'toggle') {
    const [on] = await submit('#toggle-new-editor');
    check(on.status() === 200 && (await page.locator('#flag-new-editor .flag-default').innerText()) === 'on',
      'turned on for everyone');
  } else {
    await page.locator('#flag-new-editor details summary').click();
    const [gone] = await submit('#delete-new-editor');
    check(gone.status() === 200 && page.url() === `${BACKSTAGE}/flags?deleted=1`, `deleted (${page.url()})`);
    check(await page.locator('#no-flags').isVisible(), 'no flags left');
  }
  console.log('PASS');
} finally {
  await browser.close();
}
