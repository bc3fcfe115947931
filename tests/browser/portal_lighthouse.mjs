// Lighthouse 12.2.3 (npm `lighthouse`, desktop preset) on Debian's Chromium: the dashboard, the
// audit page and /start. The test asserts the accessibility score (100: a fact about the page,
// not about the machine); the performance score depends on how busy the machine is, so it is
// printed as `report: lighthouse PAGE performance N` and bench/portal.sh records it in
// docs/PERFORMANCE.md instead of a test asserting a timing.
//   node portal_lighthouse.mjs '{"port":8080,"password":"...","user":"ada","tenant":"acme"}'
import net from 'node:net';
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import { launch, check, signIn } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const TENANT = site(cfg.tenant || 'acme');

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

// Lighthouse drives the browser through the DevTools port; Playwright (the same browser, over
// its pipe) signs in and hands the session cookie to Lighthouse as a request header, because
// Lighthouse clears the origin's storage, cookies included, before it loads a page.
const debugPort = await freePort();
const browser = await launch([`--remote-debugging-port=${debugPort}`]);
try {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const res = await signIn(page, `${TENANT}/login`, cfg.user || 'ada', cfg.password);
  check(res.ok(), `signed in at ${TENANT}`);
  const cookie = (await ctx.cookies(TENANT)).map((c) => `${c.name}=${c.value}`).join('; ');
  await ctx.close();

  const pages = [
    ['dashboard', `${TENANT}/dashboard`, cookie],
    ['audit', `${TENANT}/audit`, cookie],
    ['start', `${site('')}/start`, ''],
  ];
  for (const [name, url, cookieHeader] of pages) {
    const flags = {
      port: debugPort, output: 'json', logLevel: 'error',
      onlyCategories: ['performance', 'accessibility'],
      extraHeaders: cookieHeader ? { Cookie: cookieHeader } : undefined,
    };
    // A trace that failed to record (NO_NAVSTART on a loaded machine) is Lighthouse's own
    // "run again": up to three runs, and the last one's error if all fail.
    let lhr;
    for (let run = 1; run <= 3; run++) {
      lhr = (await lighthouse(url, flags, desktopConfig)).lhr;
      if (!lhr.runtimeError) break;
      console.log(`${name}: run ${run} failed (${lhr.runtimeError.code}), again`);
    }
    check(!lhr.runtimeError, `${name}: Lighthouse ran (${lhr.runtimeError?.message || 'no error'})`);
    check(lhr.finalDisplayedUrl === url, `${name}: Lighthouse saw ${lhr.finalDisplayedUrl}, the page itself`);
    const score = (c) => Math.round(lhr.categories[c].score * 100);
    const failing = Object.values(lhr.audits)
      .filter((a) => lhr.categories.accessibility.auditRefs.some((r) => r.id === a.id && r.weight > 0) && a.score === 0)
      .map((a) => a.id);
    check(score('accessibility') === 100, `${name}: accessibility ${score('accessibility')}` +
      (failing.length ? ` (failing: ${failing.join(', ')})` : ''));
    const m = (id) => lhr.audits[id].displayValue;
    console.log(`report: lighthouse ${name} performance ${score('performance')} ` +
      `(FCP ${m('first-contentful-paint')}, LCP ${m('largest-contentful-paint')}, ` +
      `TBT ${m('total-blocking-time')}, CLS ${m('cumulative-layout-shift')})`);
  }
  console.log('PASS');
} finally {
  await browser.close();
}
