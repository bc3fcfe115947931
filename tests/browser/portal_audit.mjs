// The audit page in a real browser (M10.2): a tenant's events paged 50 at a time, narrowed by
// product, action, text and dates, exported as CSV (exactly the filtered rows) and PDF; bad
// filters answered on the page; another tenant's events never shown, not even with a session
// cookie carried over by hand; a USER sees no audit link; the backstage sees every tenant.
// The test (portal_e2etest.cpp) published 57 document.approve and 4 document.delete events of
// certifai for acme, and 3 "globex secret" events for globex.
//   node portal_audit.mjs '{"port":8080,"password":"..."}'
import http from 'node:http';
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const D = site(''), ACME = site('acme'), GLOBEX = site('globex'), BACKSTAGE = site('backstage');

// A GET to our server with the Host header of a portal site and the cookie given, by hand.
function rawGet(host, path, cookie) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: P, path, headers: { Host: `${host}:${P}`, Cookie: cookie } },
      (res) => {
        let body = '';
        res.on('data', (c) => { body += c; });
        res.on('end', () => resolve({ status: res.statusCode, location: res.headers.location, body }));
      });
    req.on('error', reject);
    req.end();
  });
}

// A download fetched by the page itself (Node cannot resolve *.localhost; Chromium does).
const download = (page, url) => page.evaluate(async (u) => {
  const r = await fetch(u, { credentials: 'include' });
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type'), text: new TextDecoder().decode(bytes) };
}, url);

const browser = await launch();
try {
  const { ctx, page, dialogs } = await watchedPage(browser);
  const rows = () => page.locator('#events tbody tr');
  const apply = () => Promise.all([page.waitForNavigation(), page.click('#apply-filters')]);

  await signIn(page, `${D}/login`, 'ada', cfg.password);
  check(page.url() === `${ACME}/dashboard`, 'ada signed in to acme');
  check(await page.locator('nav a[href="/audit"]').count() === 1, 'an IT_ADMIN sees the audit link');
  let res = await page.goto(`${ACME}/audit`);
  check(res.status() === 200, 'the audit page opens');
  check(await rows().count() === 50, 'the first page holds 50 events');
  const first = await page.locator('#events').innerText();
  check(first.includes('approved <b>doc</b>'), 'markup in a description is shown as text');
  check(!first.includes('globex secret'), 'no other tenant\'s event on the page');

  // Narrowed to the product, every page walked: exactly the 61 events published.
  await page.selectOption('#f-product', 'certifai');
  await apply();
  check(page.url().includes('product=certifai'), 'the filters are in the address');
  let total = await rows().count();
  let pages = 1;
  while (await page.locator('#older').count() === 1) {
    await Promise.all([page.waitForNavigation(), page.click('#older')]);
    total += await rows().count();
    pages++;
  }
  check(total === 61 && pages === 2, `the product's events, paged: ${total} on ${pages} pages`);
  check(await page.locator('#newest').count() === 1, 'a later page links back to the newest');
  check(await page.inputValue('#f-product') === 'certifai', 'the form keeps its filters on a later page');

  // An action narrows the list; the CSV holds exactly those rows.
  await page.goto(`${ACME}/audit`);
  await page.fill('#f-action', 'document.delete');
  await apply();
  check(await rows().count() === 4, 'an action narrows the list to its 4 events');
  const csvHref = await page.getAttribute('#export-csv', 'href');
  const csv = await download(page, ACME + csvHref);
  check(csv.status === 200 && csv.type.startsWith('text/csv'), 'the CSV downloads');
  const lines = csv.text.trim().split('\n');
  check(lines.length === 5 && lines.slice(1).every((l) => l.includes('document.delete')),
    `the CSV holds exactly the filtered rows (${lines.length - 1})`);
  const pdf = await download(page, ACME + await page.getAttribute('#export-pdf', 'href'));
  check(pdf.status === 200 && pdf.type === 'application/pdf' && pdf.text.startsWith('%PDF-'), 'the PDF downloads');

  // A prefix and free text.
  await page.goto(`${ACME}/audit?action=document.*&q=approved`);
  let n = await rows().count();
  check(n === 50, 'a prefix and text match the approvals');
  const all = await download(page, `${ACME}/audit/export?format=csv&action=document.*`);
  check(all.text.trim().split('\n').length === 62, 'the CSV of a prefix holds all 61 events, past one page');

  // Dates: a range in the future is empty; a bad date or range is a message, not an error page.
  await page.goto(`${ACME}/audit?from=2999-01-01`);
  check(await page.locator('#no-events').isVisible(), 'a future range says nothing matches');
  for (const [q, what] of [['from=2026-13-45', 'a bad date'], ['from=2026-12-05&to=2026-12-01', 'a backwards range'],
    ['action=a*b', 'a star inside an action'], ['q=a&q=b', 'a filter given twice'],
    ['cursor=notacursor', 'a broken page link'], [`q=${'x'.repeat(300)}`, 'an over-long filter']]) {
    res = await page.goto(`${ACME}/audit?${q}`);
    check(res.status() === 400 && await page.locator('#error').isVisible() && await rows().count() === 0,
      `${what} is a message on the page (${res.status()})`);
  }
  res = await page.goto(`${ACME}/audit/export?format=xls`);
  check(res.status() === 422, `an unknown export format is refused (${res.status()})`);
  await page.goto(`${ACME}/audit?q=${encodeURIComponent('<script>alert(1)</script>')}`);
  check(await page.inputValue('#f-q') === '<script>alert(1)</script>', 'markup in a filter is kept as text');
  check(dialogs() === 0, 'no script ran from a filter');

  // Another tenant: the browser has no session there, and acme's cookie carried over by hand
  // opens nothing of globex.
  await page.goto(`${GLOBEX}/audit`);
  check(page.url().startsWith(`${GLOBEX}/login`), 'globex\'s audit page sends to its sign-in');
  const cookie = (await ctx.cookies(ACME)).find((c) => c.name === 'bp_portal');
  for (const path of ['/audit', '/audit/export?format=csv']) {
    const r = await rawGet('globex.localhost', path, `bp_portal=${cookie.value}`);
    check(r.status === 303 && r.location.startsWith('/login') && !r.body.includes('globex secret'),
      `acme's session cookie opens nothing at globex${path} (${r.status})`);
  }

  // A USER has no audit permission: no link, a 403 page.
  const uctx = await browser.newContext();
  const upage = await uctx.newPage();
  await signIn(upage, `${ACME}/login`, 'uma', cfg.password);
  check(await upage.locator('nav a[href="/audit"]').count() === 0, 'a USER sees no audit link');
  res = await upage.goto(`${ACME}/audit`);
  check(res.status() === 403, 'a USER opening the audit page gets 403');
  res = await upage.goto(`${ACME}/audit/export?format=csv`);
  check(res.status() === 403, 'a USER opening the export gets 403');

  // Staff on the backstage: every tenant, with a tenant filter.
  const sctx = await browser.newContext();
  const spage = await sctx.newPage();
  await signIn(spage, `${D}/login`, 'sam', cfg.password);
  check(spage.url().startsWith(BACKSTAGE), `staff land on the backstage (${spage.url()})`);
  await spage.goto(`${BACKSTAGE}/audit?tenant=globex&product=certifai`);
  const g = await spage.locator('#events tbody tr').allInnerTexts();
  check(g.length === 3 && g.every((t) => t.includes('globex secret') && t.includes('globex')),
    `the backstage filters by tenant (${g.length} rows)`);
  await spage.goto(`${BACKSTAGE}/audit?product=certifai`);
  const both = await spage.locator('#events').innerText();
  check(both.includes('globex secret') && both.includes('approved'), 'the backstage sees every tenant');
  res = await spage.goto(`${BACKSTAGE}/audit?tenant=nosuch`);
  check(res.status() === 400, 'an unknown tenant is a message on the page');
  console.log('PASS');
} finally {
  await browser.close();
}
