// The backstage's jobs page in a real browser (M5.2, M13.2): a platform admin finds the dead
// letter, filters the list, and retries a dead job by hand; bad filters and forged or made-up
// retries are refused with a page that says so. With BREAKPILOT_SCREENSHOTS=DIR it saves the
// dead letter as backstage_jobs-dead.png there.
//   node portal_jobs.mjs '{"port":8080,"password":"...","kind":"test.orphan"}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const BACKSTAGE = `http://backstage.localhost:${cfg.port}`;

const browser = await launch();
try {
  const { page, dialogs } = await watchedPage(browser);
  await signIn(page, `${BACKSTAGE}/login`, 'sam', cfg.password);
  check(page.url() === `${BACKSTAGE}/`, `the admin is on the backstage (${page.url()})`);
  await Promise.all([page.waitForNavigation(), page.click('nav a[href="/jobs"]')]);

  // The dead letter is what the page opens on: the orphan job, its error, a retry button.
  const row = page.locator('#jobs tbody tr', { hasText: cfg.kind });
  check(await row.count() === 1, 'the dead job is listed');
  check((await row.innerText()).includes(`no handler for job kind ${cfg.kind}`), 'with its last error');
  check((await page.locator('#job-state option[selected]').innerText()).startsWith('dead (1'),
    'the state filter says dead, with the count');
  const id = (await row.getAttribute('id')).replace(/^job-/, '');
  if (process.env.BREAKPILOT_SCREENSHOTS) {
    await page.screenshot({ path: `${process.env.BREAKPILOT_SCREENSHOTS}/backstage_jobs-dead.png`, fullPage: true });
  }

  // Filters: another kind lists nothing; markup in the kind is text; bad values are a 400 page.
  await page.fill('#job-kind', 'mail.send');
  await Promise.all([page.waitForNavigation(), page.click('#job-filter-button')]);
  check(await page.locator('#no-jobs').isVisible(), 'another kind: no dead job');
  let res = await page.goto(`${BACKSTAGE}/jobs?kind=${encodeURIComponent('<img src=x onerror=alert(1)>')}`);
  check(res.status() === 200 && await page.locator('img[src="x"]').count() === 0,
    'markup in the kind stays text');
  check(await page.inputValue('#job-kind') === '<img src=x onerror=alert(1)>', 'and is kept in the field');
  res = await page.goto(`${BACKSTAGE}/jobs?state=exploded`);
  check(res.status() === 400 && await page.locator('#error').isVisible(), `a made-up state: 400 with a message (${res.status()})`);
  res = await page.goto(`${BACKSTAGE}/jobs?kind=${'k'.repeat(101)}`);
  check(res.status() === 400, `an over-long kind: 400 (${res.status()})`);

  // Retries the browser posts itself: without the CSRF token, and for a made-up job.
  await page.goto(`${BACKSTAGE}/jobs`);
  const csrf = await page.inputValue(`#job-${id} input[name="csrf"]`);
  const post = (url, form) => page.evaluate(async ([u, f]) => {
    const r = await fetch(u, { method: 'POST', body: new URLSearchParams(f), redirect: 'manual' });
    return r.status;
  }, [url, form]);
  let status = await post(`${BACKSTAGE}/jobs/${id}/retry`, {});
  check(status === 403, `a retry without the CSRF token is refused (${status})`);
  status = await post(`${BACKSTAGE}/jobs/00000000-0000-7000-8000-000000000000/retry`, { csrf });
  check(status === 404, `a made-up job: 404 (${status})`);
  status = await post(`${BACKSTAGE}/jobs/not-a-job/retry`, { csrf });
  check(status === 404, `not a job id: 404 (${status})`);

  // The button: the job runs again, the page says so.
  await Promise.all([page.waitForNavigation(), page.click(`#job-${id} button.retry`)]);
  check(page.url() === `${BACKSTAGE}/jobs?retried=1` && await page.locator('#notice').isVisible(),
    'the retry is under way');
  check(dialogs() === 0, 'no script ran from a field');
  console.log('PASS');
} finally {
  await browser.close();
}
