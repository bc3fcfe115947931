// The portal over https (M5.1), in Chromium, behind nginx terminating TLS with a certificate made
// for the test: the session cookie is __Host-bp_portal (Secure, Path=/, no Domain, HttpOnly,
// SameSite=Lax), the sign-in form's token is Secure too, the signed-in dashboard and sign-out work
// with https origins, and a cross-site post is still refused.
//   node portal_https.mjs '{"tls_port":8443,"password":"..."}'
import { launch, check, signIn } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const D = `https://localhost:${cfg.tls_port}`, ACME = `https://acme.localhost:${cfg.tls_port}`;

const browser = await launch();
try {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await ctx.newPage();
  await page.goto(`${D}/login`);
  const form = (await ctx.cookies(`${D}/login`)).find((c) => c.name === 'bp_form');
  check(form && form.secure && form.httpOnly, 'the sign-in form\'s token cookie is Secure');
  await signIn(page, `${D}/login`, 'ada', cfg.password);
  check(page.url() === `${ACME}/dashboard`, `signed in over https (${page.url()})`);
  const cookies = await ctx.cookies(ACME);
  const session = cookies.find((c) => c.name === '__Host-bp_portal');
  check(!!session, `the session cookie has the __Host- prefix (${cookies.map((c) => c.name)})`);
  check(session.secure && session.httpOnly && session.sameSite === 'Lax' && session.path === '/',
    'Secure, HttpOnly, SameSite=Lax, Path=/');
  check(session.domain === 'acme.localhost', `host-only, no Domain (${session.domain})`);
  check(!cookies.some((c) => c.name === 'bp_portal'), 'and no cookie without the prefix');
  check((await page.textContent('#who')) === 'ada', 'the dashboard knows ada');

  // A form on another page, posting here with the right token, is refused over https as well.
  const csrf = await page.getAttribute('form.who input[name=csrf]', 'value');
  const evil = await ctx.newPage();
  await evil.setContent(`<form method="post" action="${ACME}/settings/sessions/end-all">
    <input name="csrf" value="${csrf}"><button id="go">go</button></form>`);
  const [forged] = await Promise.all([evil.waitForNavigation(), evil.click('#go')]);
  check(forged.status() === 403, `a cross-site post is refused (${forged.status()})`);
  await page.goto(`${ACME}/dashboard`);
  check(page.url() === `${ACME}/dashboard`, 'and ended nothing');

  await Promise.all([page.waitForNavigation(), page.click('#sign-out')]);
  check(page.url() === `${ACME}/login`, 'signed out');
  check(!(await ctx.cookies(ACME)).some((c) => c.name === '__Host-bp_portal'), 'the cookie is gone');
  console.log('PASS');
} finally {
  await browser.close();
}
