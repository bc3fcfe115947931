// Single sign-on on the portal's sites (M5.1), in Chromium against oidc-provider (a certified
// OpenID provider, npm): the button on D's sign-in page, the provider's login and consent
// pages, the handoff to the tenant's site; the grant refreshed while the user is active, a user
// disabled at the provider signed out at the next refresh, RP-initiated logout that ends the
// provider's session too, and a subject the directory does not know refused.
//
//   node portal_sso.mjs '{"port":P,"api":"http://127.0.0.1:P","token":T,"idp":"http://...",
//                        "ada":UUID,"max":UUID,"globex":UUID,"refresh_seconds":N}'
import { launch, check } from './browser.mjs';

const args = JSON.parse(process.argv[2]);
const D = `http://localhost:${args.port}`;
const ACME = `http://acme.localhost:${args.port}`;
const GLOBEX = `http://globex.localhost:${args.port}`;

async function advanceClock(seconds) {
  const r = await fetch(`${args.api}/internal/clock`, {
    method: 'POST',
    headers: { authorization: `Bearer ${args.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ advance_seconds: seconds }),
  });
  check(r.status === 200, `the clock moved ${seconds} s`);
}

// From D's sign-in page through the provider's login (and consent, the first time).
async function signOn(page, account) {
  await page.goto(`${D}/login`);
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(args.idp)), page.click('#sso')]);
  await page.fill('input[name=login]', account);
  await page.fill('input[name=password]', 'any');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (page.url().startsWith(args.idp) && (await page.$('button[type=submit]'))) {
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);  // consent
  }
  await page.waitForLoadState('load');
}

const browser = await launch();
try {
  // 1. ada: one organisation, straight to its dashboard.
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${D}/login`);
  check((await page.getAttribute('#sso', 'href')) === `${D}/login/sso`, 'D offers single sign-on');
  await signOn(page, args.ada);
  check(page.url() === `${ACME}/dashboard`, `ada signed on to acme (${page.url()})`);
  check((await page.textContent('#who')) === 'ada', 'as the directory user of that subject');
  const cookies = await ctx.cookies(ACME);
  const session = cookies.find((c) => c.name === 'bp_portal');
  check(session && session.httpOnly && session.sameSite === 'Lax', 'an HttpOnly, Lax session');
  check(!cookies.some((c) => c.name === 'bp_sso'), 'the sign-on cookie is gone');

  // 2. Past the refresh interval the grant is refreshed at the provider; ada stays signed in.
  await advanceClock(args.refresh_seconds + 5);
  await page.goto(`${ACME}/dashboard`);
  check(page.url() === `${ACME}/dashboard`, 'a refreshed grant keeps the session');
  await advanceClock(args.refresh_seconds + 5);
  await page.goto(`${ACME}/settings/sessions`);
  check(page.url() === `${ACME}/settings/sessions`, 'and refreshed again, still signed in');

  // 3. Sign-out goes on to the provider (RP-initiated logout) and comes back to D.
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(args.idp)),
    page.click('#sign-out')]);
  await Promise.all([page.waitForURL(`${D}/login`), page.click('button[value=yes]')]);
  check(page.url() === `${D}/login`, 'signed out at the provider, back on D');
  await page.goto(`${ACME}/dashboard`);
  check(page.url().startsWith(`${ACME}/login`), 'the session on acme is over');
  await page.goto(`${D}/login`);
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(args.idp)), page.click('#sso')]);
  check(!!(await page.$('input[name=login]')), 'the provider asks for a login again');
  await ctx.close();

  // 4. max: two organisations, the picker; the grant goes through it to globex's session.
  const ctx2 = await browser.newContext();
  const page2 = await ctx2.newPage();
  await signOn(page2, args.max);
  check(page2.url().startsWith(`${D}/login/callback`), `max gets the picker (${page2.url()})`);
  check((await ctx2.cookies(`${D}/login/choose`)).some((c) => c.name === 'bp_sso_grant' && c.httpOnly),
    'the grant waits sealed in an HttpOnly cookie');
  await Promise.all([page2.waitForURL(`${GLOBEX}/dashboard`),
    page2.click(`form:has(input[name=site][value="tenant:${args.globex}"]) button`)]);
  check(page2.url() === `${GLOBEX}/dashboard`, 'max chose globex');
  check(!(await ctx2.cookies(`${D}/login/choose`)).some((c) => c.name === 'bp_sso_grant'), 'the grant cookie is gone');

  // 5. max is disabled at the provider: the next refresh is refused and the session ends.
  const r = await fetch(`${args.idp}/test/disable?account=${args.max}`, { method: 'POST' });
  check(r.status === 200, 'max disabled at the provider');
  await page2.goto(`${GLOBEX}/dashboard`);
  check(page2.url() === `${GLOBEX}/dashboard`, 'until the refresh is due, the session stands');
  await advanceClock(args.refresh_seconds + 5);
  await page2.goto(`${GLOBEX}/dashboard`);
  check(page2.url().startsWith(`${GLOBEX}/login`), `the refused refresh ended it (${page2.url()})`);
  await ctx2.close();

  // 6. A subject the directory does not know: no session, a clear message.
  const ctx3 = await browser.newContext();
  const page3 = await ctx3.newPage();
  await signOn(page3, 'stranger');
  check(page3.url().startsWith(`${D}/login/callback`), `back on D (${page3.url()})`);
  check((await page3.textContent('#error')).includes('no account'), 'told there is no account');
  check(!(await ctx3.cookies()).some((c) => c.name === 'bp_portal'), 'and no session');
  await ctx3.close();
  console.log('PASS');
} finally {
  await browser.close();
}
