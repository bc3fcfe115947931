// Drives the portal's OpenID sign-in the way a browser does (redirects, cookies, the
// provider's login and consent forms), against our server and oidc-provider.
//
//   node oidc_signin.mjs OUR_BASE_URL LOGIN_NAME
// Prints one JSON object: what /portal/me said after sign-in, the session cookie's attributes,
// where logout sent us, and what /portal/me said after logout.
//
//   node oidc_signin.mjs OUR_BASE_URL LOGIN_NAME csrf
// Sign-in CSRF: the attacker signs in at the provider but keeps the callback URL instead of
// following it, and a victim's browser (no cookies of ours) opens it. Prints what the victim
// got: the status, whether a session cookie was set, and what /portal/me says for the victim.
const [base, loginName, mode] = process.argv.slice(2);

const jars = new Map();  // host -> Map(name -> value); paths ignored, enough for this flow
const setCookies = [];
function remember(url, res) {
  const host = new URL(url).host;
  if (!jars.has(host)) jars.set(host, new Map());
  for (const c of res.headers.getSetCookie()) {
    setCookies.push({ host, cookie: c });
    const [pair, ...attrs] = c.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()));
    if (expired || value === '') jars.get(host).delete(name); else jars.get(host).set(name, value);
  }
}
function cookieHeader(url) {
  const jar = jars.get(new URL(url).host);
  return jar ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : '';
}
async function request(url, { method = 'GET', form, headers = {} } = {}) {
  const h = { ...headers, cookie: cookieHeader(url) };
  let body;
  if (form) {
    body = new URLSearchParams(form).toString();
    h['content-type'] = 'application/x-www-form-urlencoded';
  }
  const res = await fetch(url, { method, headers: h, body, redirect: 'manual' });
  remember(url, res);
  return res;
}
// Follows redirects by hand (so cookies are kept per host); returns the last response. With
// `stopAt`, a redirect to a URL it accepts is not followed: `stopped` is that URL.
async function follow(url, options, stopAt) {
  let res = await request(url, options);
  let current = url;
  for (let i = 0; i < 20 && res.status >= 300 && res.status < 400; i++) {
    current = new URL(res.headers.get('location'), current).toString();
    if (stopAt && stopAt(current)) return { res, url: current, stopped: current };
    res = await request(current);
  }
  return { res, url: current };
}
function formOf(html, pageUrl) {
  const m = html.match(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/);
  if (!m) throw new Error(`no form on ${pageUrl}: ${html.slice(0, 300)}`);
  const fields = {};
  for (const [tag] of m[2].matchAll(/<input[^>]*>/g)) {
    const name = tag.match(/name="([^"]+)"/);
    const value = tag.match(/value="([^"]*)"/);
    if (name) fields[name[1]] = value ? value[1] : '';
  }
  return { action: new URL(m[1].replaceAll('&amp;', '&'), pageUrl).toString(), fields };
}

// 1. Start at the portal: we land on the provider's login page.
let { res, url } = await follow(`${base}/portal/login?return_to=/portal`);
let page = await res.text();
let form = formOf(page, url);
// 2. Log in, then consent.
const atCallback = mode === 'csrf' ? (u) => u.startsWith(`${base}/portal/callback`) : undefined;
let stopped;
({ res, url, stopped } = await follow(form.action, { method: 'POST', form: { ...form.fields, login: loginName, password: 'any' } }, atCallback));
page = await res.text();
if (!stopped && page.includes('name="prompt" value="consent"')) {
  form = formOf(page, url);
  ({ res, url, stopped } = await follow(form.action, { method: 'POST', form: form.fields }, atCallback));
  page = await res.text();
}
if (mode === 'csrf') {
  if (!stopped) throw new Error(`never sent to our callback; ended at ${url}`);
  // The victim's browser: none of the attacker's cookies.
  jars.clear();
  const victim = await request(stopped);
  const me = await request(`${base}/portal/me`);
  console.log(JSON.stringify({
    victim_status: victim.status,
    victim_problem: (await victim.text()).slice(0, 300),
    session_cookie_set: victim.headers.getSetCookie().some((c) => c.startsWith('bp_session=')),
    me_status: me.status,
  }));
  process.exit(0);
}
if (!url.startsWith(`${base}/portal`)) throw new Error(`ended at ${url} (${res.status}): ${page.slice(0, 300)}`);
const session = setCookies.find((c) => c.cookie.startsWith('bp_session='));
const me = await (await request(`${base}/portal/me`)).json();
const home = await (await request(`${base}/portal`)).text();

// 3. A logout without the CSRF token is refused; with it, we go to the provider and back.
const forged = await request(`${base}/portal/logout`, { method: 'POST', form: { csrf: 'forged' } });
({ res, url } = await follow(`${base}/portal/logout`, { method: 'POST', form: { csrf: me.csrf_token } }));
page = await res.text();
let endedAt = url;
if (page.includes('op.logoutForm')) {
  form = formOf(page, url);
  ({ res, url } = await follow(form.action, { method: 'POST', form: { ...form.fields, logout: 'yes' } }));
  endedAt = url;
}
const after = await request(`${base}/portal/me`);
console.log(JSON.stringify({
  me,
  home_mentions_user: home.includes(me.name),
  session_cookie: session ? session.cookie.replace(/=[^;]*/, '=…') : null,
  forged_logout_status: forged.status,
  logout_ended_at: endedAt,
  me_after_logout: after.status,
}));
