// Sign-in and sign-out for every role (issue 23), in Chromium: each organisation role of
// initech signs in on the public site and lands on initech's dashboard; each staff role lands on the
// backstage (a sales rep, who also works on the demo tenant when there is one, picks it); each signs out, and the
// page they were on is closed to them after.
//   node portal_roles.mjs '{"port":8080,"password":"...","users":[["role-it_admin","IT_ADMIN"],...]}'
import { launch, check, signIn } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const site = (label) => `http://${label ? label + '.' : ''}localhost:${cfg.port}`;
const STAFF = ['BREAKPILOT_ADMIN', 'SUPPORT_ENGINEER', 'SALES_REP'];

const browser = await launch();
try {
  for (const [username, role] of cfg.users) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, `${site('')}/login`, username, cfg.password);
    const home = STAFF.includes(role) ? `${site('backstage')}/` : `${site('initech')}/dashboard`;
    if (await page.locator('input[name=site][value="backstage"]').count() > 0) {
      // A sales rep with a demo tenant to work on: the picker.
      await Promise.all([page.waitForNavigation(),
        page.click('form:has(input[name=site][value="backstage"]) button')]);
    }
    check(page.url() === home, `${role} signs in and lands on ${home} (${page.url()})`);
    check((await page.textContent('#who')) === username, `${role}: the header names the user`);
    const where = page.url();
    await Promise.all([page.waitForNavigation(), page.click('#sign-out')]);
    check(new URL(page.url()).pathname === '/login', `${role} signs out`);
    await page.goto(where);
    check(new URL(page.url()).pathname === '/login', `${role}: ${where} is closed after sign-out`);
    await ctx.close();
  }
  console.log('PASS');
} finally {
  await browser.close();
}
