// Enhancements only: every page works without this file.
// Copy buttons: <button class="copy" data-copy="input-id" hidden> is shown and copies the input.
document.querySelectorAll('button.copy[data-copy]').forEach((button) => {
  const input = document.getElementById(button.dataset.copy);
  if (!input || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(input.value).then(() => { button.textContent = '✓'; });
  });
});
// Times: shown in the viewer's time zone, in the page's language (the browser's own regional
// form of it when they match: en-GB writes 05/12/2026, en-US 12/5/2026).
const lang = document.documentElement.lang;
const locale = navigator.language.split('-')[0] === lang ? navigator.language : lang;
document.querySelectorAll('time[datetime]').forEach((t) => {
  const d = new Date(t.getAttribute('datetime'));
  if (!isNaN(d)) t.textContent = d.toLocaleString(locale);
});
// A product's web component (/products/{id}): its module is loaded from the product's origin
// (the page's CSP admits that origin only), its element made in a shadow root of the host and
// handed the tenant, the user and a short-lived token for the product before it connects. The
// token is renewed before it expires (and on demand: `await el.refreshToken()`); each new one
// is set as `el.token` and announced with a `bp-token` event on the element.
document.querySelectorAll('div.product-host[data-script][data-tag]').forEach((host) => {
  const d = host.dataset;
  const fail = () => {
    document.getElementById('product-loading').hidden = true;
    document.getElementById('product-error').hidden = false;
  };
  import(d.script).then(() => customElements.whenDefined(d.tag)).then(() => {
    const el = document.createElement(d.tag);
    el.tenant = { id: d.tenantId, slug: d.tenantSlug, name: d.tenantName };
    el.user = { id: d.userId, username: d.userName };
    el.token = d.token;
    let timer;
    const schedule = (seconds) => {
      clearTimeout(timer);
      timer = setTimeout(() => el.refreshToken().catch(() => {}), Math.max(10, seconds * 0.8) * 1000);
    };
    el.refreshToken = async () => {
      const r = await fetch(d.refresh, {
        method: 'POST', credentials: 'same-origin',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `csrf=${encodeURIComponent(d.csrf)}`,
      });
      if (!r.ok) throw new Error(`token refresh refused (${r.status})`);
      const t = await r.json();
      el.token = t.access_token;
      el.dispatchEvent(new CustomEvent('bp-token', { detail: { token: t.access_token, expiresIn: t.expires_in } }));
      schedule(t.expires_in);
      return t.access_token;
    };
    schedule(300);
    el.setAttribute('tenant-id', d.tenantId);
    document.getElementById('product-loading').hidden = true;
    host.attachShadow({ mode: 'open' }).appendChild(el);
  }).catch(fail);
});
