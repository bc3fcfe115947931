// /projects in a real browser (M5.2): an IT_ADMIN creates, renames, archives and restores
// projects of a product that uses them; a USER reads the list without forms; an organisation
// whose products use no projects is shown no link to the page, and told so on it. Hostile input (markup in a name, a duplicate, an
// empty or over-long name, another organisation's project, a made-up id or cursor) gets a
// message or an error page and changes nothing.
//   node portal_projects.mjs '{"port":8080,"password":"...","other_project":"<globex project id>"}'
import { launch, check, signIn, watchedPage } from './browser.mjs';

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const ACME = `http://acme.localhost:${P}`, GLOBEX = `http://globex.localhost:${P}`;
const PROJECTS = `${ACME}/projects`;

const browser = await launch();
try {
  const { page, dialogs } = await watchedPage(browser);
  const submit = (selector) => Promise.all([page.waitForNavigation(), page.click(selector)]);
  const row = (name) => page.locator(`#projects tr[data-project="${name}"]`);
  const create = async (name, description = '') => {
    await page.goto(PROJECTS);
    await page.evaluate(() => document.getElementById('project-name').removeAttribute('maxlength'));
    await page.evaluate(() => document.getElementById('project-name').removeAttribute('required'));
    await page.fill('#project-name', name);
    await page.fill('#project-description', description);
    return (await submit('#create-project-button'))[0];
  };

  await signIn(page, `${ACME}/login`, 'ada', cfg.password);
  check(await page.locator('nav a[href="/projects"]').count() === 1, 'an IT_ADMIN sees the projects link');
  await page.goto(PROJECTS);
  check((await page.textContent('#project-products')).includes('Breakpilot Compliance'),
    'the page names the product that uses projects');

  const hostile = 'Alpha <img src=x onerror=alert(1)>';
  let res = await create(hostile, 'first <b>one</b>');
  check(page.url() === `${PROJECTS}?created=1` && await page.locator('#notice').isVisible(), 'a project is created');
  check(await row(hostile).count() === 1, 'its name shows as text');
  res = await create(hostile);
  check(res.status() === 409 && (await page.textContent('#error')).includes('already'), `a duplicate name is a message (${res.status()})`);
  check(await page.inputValue('#project-name') === hostile, 'what was typed is kept');
  res = await create('');
  check(res.status() === 422 && await page.locator('#error').isVisible(), `an empty name is a message (${res.status()})`);
  res = await create('x'.repeat(201));
  check(res.status() === 422, `an over-long name is a message (${res.status()})`);
  check(await page.locator('#projects tbody tr').count() === 1, 'nothing else was made');

  // Rename, archive, restore.
  await page.goto(PROJECTS);
  await row(hostile).locator('input[name="name"]').fill('Beta');
  await submit(`#projects tr[data-project="${hostile}"] form.inline button`);
  check(page.url() === `${PROJECTS}?renamed=1` && await row('Beta').count() === 1, 'the project is renamed');
  await submit('#projects tr[data-project="Beta"] button[aria-label^="Archive"]');
  check(page.url() === `${PROJECTS}?archived=1` && await row('Beta').count() === 0, 'archived, it leaves the list');
  check((await page.textContent('#archived-projects summary')).includes('(1)'), 'and shows among the archived');
  await page.click('#archived-projects summary');
  await submit('#archived-projects button[aria-label^="Restore"]');
  check(page.url() === `${PROJECTS}?restored=1` && await row('Beta').count() === 1, 'restored, it is back');

  // Another organisation's project through this page's form: not found, unchanged.
  await page.evaluate((id) => {
    document.querySelector('#projects tr[data-project="Beta"] form.inline').action = `/projects/${id}/rename`;
  }, cfg.other_project);
  await row('Beta').locator('input[name="name"]').fill('Stolen');
  [res] = await submit('#projects tr[data-project="Beta"] form.inline button');
  check(res.status() === 404, `another organisation's project is not found here (${res.status()})`);
  await page.evaluate(() => {
    document.querySelector('#projects tr[data-project="Beta"] form.inline').action = '/projects/nosuch/archive';
  });
  [res] = await submit('#projects tr[data-project="Beta"] form.inline button');
  check(res.status() === 404, `a made-up project id is a 404 page (${res.status()})`);
  res = await page.goto(`${PROJECTS}?cursor=%3Cscript%3E`);
  check(res.status() === 400, `a made-up cursor is a 400 page (${res.status()})`);

  // A USER reads, with no forms.
  const u = await watchedPage(browser);
  await signIn(u.page, `${ACME}/login`, 'uma', cfg.password);
  await u.page.goto(PROJECTS);
  check(await u.page.locator('#projects tr[data-project="Beta"]').count() === 1 &&
    await u.page.locator('form[action^="/projects"]').count() === 0, 'a USER sees the projects and no form');

  // globex's products use no projects: the page says so and offers no form.
  const m = await watchedPage(browser);
  await signIn(m.page, `${GLOBEX}/login`, 'max', cfg.password);
  check(await m.page.locator('nav a[href="/projects"]').count() === 0 &&
    await m.page.locator('nav a[href="/settings/api-keys"]').count() === 1,
  'its IT_ADMIN is shown no projects link (the other links are there)');
  await m.page.goto(`${GLOBEX}/projects`);
  check(await m.page.locator('#no-project-products').isVisible() &&
    await m.page.locator('#create-project').count() === 0, 'an organisation without such a product is told so');
  check(dialogs() === 0 && u.dialogs() === 0, 'no script ran from a field');
  console.log('PASS');
} finally {
  await browser.close();
}
