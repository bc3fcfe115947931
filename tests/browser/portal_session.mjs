// A portal session kept in a file between steps, to show that it lives in the database:
//   node portal_session.mjs signin PORT USER PASSWORD STATE   signs in at D, saves the cookies
//   node portal_session.mjs check PORT STATE                 opens the dashboard with them
import { launch, check, signIn } from './browser.mjs';

const [mode, port, ...rest] = process.argv.slice(2);
const D = `http://localhost:${port}`, ACME = `http://acme.localhost:${port}`;
const browser = await launch();
try {
  if (mode === 'signin') {
    const [user, password, state] = rest;
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await signIn(page, `${D}/login`, user, password);
    check(page.url() === `${ACME}/dashboard`, `signed in (${page.url()})`);
    await ctx.storageState({ path: state });
  } else {
    const [state] = rest;
    const ctx = await browser.newContext({ storageState: state });
    const page = await ctx.newPage();
    await page.goto(`${ACME}/dashboard`);
    check(page.url() === `${ACME}/dashboard`, `the session opens the dashboard on port ${port}`);
    check((await page.textContent('#who')) === 'ada', 'as the same user');
  }
  console.log('PASS');
} finally {
  await browser.close();
}
