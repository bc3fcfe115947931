// Every portal page through axe-core (@axe-core/playwright) in English and German: no serious
// or critical violation. Each page is also weighed as a first visit (the browser's cache off):
// at most 60 KB transferred in all (HTML, CSS, JS, compressed, headers included), and nothing
// loaded from another origin. With BREAKPILOT_SCREENSHOTS=DIR it also saves each page in the light
// and the dark scheme (docs/screenshots/ is made this way).
//   node portal_axe.mjs '{"port":8080,"password":"..."}'
import { AxeBuilder } from '@axe-core/playwright';
import { launch, check, signIn } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const site = (label) => `http://${label ? label + '.' : ''}localhost:${P}`;
const shots = process.env.BREAKPILOT_SCREENSHOTS;

// [who signs in (null: nobody), where, the pages there]
const tours = [
  [null, site(''), ['/', '/login', '/start', '/start/confirm?token=nosuch']],
  [null, site('nosuch'), ['/dashboard']],
  ['ada', site('acme'), ['/dashboard', '/settings/api-keys', '/settings/sessions', '/audit',
    '/audit?action=nothing.*', '/audit?from=not-a-date', '/settings/organisation', '/catalog',
    '/settings/users', '/projects', '/products/certifai', '/billing',
    '/settings/identity', '/settings/integrations', '/support', '/settings/domains']],
  ['sam', site('backstage'), ['/', '/tenants/acme', '/settings/sessions', '/audit', '/leads', '/demo', '/jobs',
    '/users', '/users?q=ad', '/service-clients', '/tickets', '/integrations', '/flags']],
];

let heaviest = ['', 0];
const browser = await launch();
try {
  for (const locale of ['en-GB', 'de-DE']) {
    for (const [user, base, paths] of tours) {
      const ctx = await browser.newContext({ locale });
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      let transferred = 0;
      const origins = new Set();
      cdp.on('Network.loadingFinished', (e) => { transferred += e.encodedDataLength; });
      page.on('request', (r) => { if (!r.url().startsWith('data:')) origins.add(new URL(r.url()).origin); });
      if (user) await signIn(page, `${base}/login`, user, cfg.password);
      for (const path of paths) {
        transferred = 0;
        origins.clear();
        await page.goto(base + path);
        if (transferred > heaviest[1]) heaviest = [`${base}${path} (${locale})`, transferred];
        check(transferred > 0 && transferred <= 60 * 1024,
          `${base}${path} (${locale}) weighs ${(transferred / 1024).toFixed(1)} KB transferred (at most 60)`);
        check(origins.size === 1 && origins.has(base),
          `${base}${path} loads only from its own origin: ${[...origins].join(' ')}`);
        const lang = await page.getAttribute('html', 'lang');
        check(lang === locale.slice(0, 2), `${base}${path} is in ${lang}`);
        const result = await new AxeBuilder({ page }).analyze();
        const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        check(bad.length === 0, `${base}${path} (${locale}): no serious or critical axe violation` +
          (bad.length ? ': ' + JSON.stringify(bad.map((v) => [v.id, v.nodes.map((n) => n.target)])) : ''));
        if (shots && locale === 'en-GB') {
          const name = (base.split('//')[1].split('.')[0].replace(/:.*/, '') || 'public') +
            path.replace(/[/?=&*.]/g, '_').replace(/_+$/, '');
          for (const scheme of ['light', 'dark']) {
            await page.emulateMedia({ colorScheme: scheme });
            await page.screenshot({ path: `${shots}/${name}-${scheme}.png`, fullPage: true });
          }
          await page.emulateMedia({ colorScheme: 'light' });
        }
      }
      await ctx.close();
    }
  }
  console.log(`report: the heaviest page, ${heaviest[0]}, weighs ${(heaviest[1] / 1024).toFixed(1)} KB transferred`);
  console.log('PASS');
} finally {
  await browser.close();
}
