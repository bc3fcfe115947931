// The platform's /dashboard, as a Next.js App Router server component: same reads, same markup
// in outline (header, navigation, trial banner, one tile per subscribed product, the facts).
import { createHash } from 'node:crypto';
import { cookies, headers } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { statements } from '../db';

export const dynamic = 'force-dynamic';

function tagline(manifest) {
  const m = /^tagline:\s*"?(.*?)"?\s*$/m.exec(manifest);
  return m ? m[1] : '';
}

export default async function Dashboard() {
  const q = statements();
  const host = (await headers()).get('host') ?? '';
  const tenant = q.tenant.get(host.split('.')[0]);
  if (!tenant) notFound();
  const token = (await cookies()).get('bp_portal')?.value;
  if (!token) redirect('/login');
  // The platform's storage format: '2026-12-06 07:22:02.123000+00', compared as text.
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '000+00');
  const hash = createHash('sha256').update(token).digest('hex');
  const session = q.session.get(hash, `tenant:${tenant.id}`, now, now);
  if (!session) redirect('/login');
  const user = q.user.get(session.user_id);
  const roles = JSON.parse(q.roles.get(session.user_id, tenant.id)?.org_roles ?? '[]');
  if (!user || roles.length === 0) notFound();
  const products = q.products.all(tenant.id);
  const daysLeft = tenant.trial_ends_at
    ? Math.max(0, Math.ceil((Date.parse(tenant.trial_ends_at) - Date.now()) / 86400000))
    : null;
  const admin = roles.includes('IT_ADMIN');
  return (
    <>
      <header className="top">
        <a className="brand" href="/">Breakpilot · <span id="org">{tenant.name}</span></a>
        <nav aria-label="Main">
          <ul>
            <li><a href="/dashboard" aria-current="page">Dashboard</a></li>
            <li><a href="/projects">Projects</a></li>
            <li><a href="/catalog">Catalog</a></li>
            <li><a href="/audit">Audit</a></li>
            {admin && <li><a href="/settings/api-keys">API keys</a></li>}
            {admin && <li><a href="/settings/users">Users</a></li>}
            {admin && <li><a href="/billing">Billing</a></li>}
          </ul>
        </nav>
        <form className="who" method="post" action="/logout">
          <span>Signed in as <b id="who">{user.display_name || user.username}</b></span>
          <input type="hidden" name="csrf" value={session.csrf_token} />
          <button type="submit">Sign out</button>
        </form>
      </header>
      {daysLeft !== null && tenant.status === 'trial' && (
        <p className="banner info" role="status">Your trial ends in <b>{daysLeft}</b> days</p>
      )}
      <main id="main">
        <h1>Your products</h1>
        {products.length > 0 ? (
          <ul className="tiles" id="products">
            {products.map((p) => (
              <li key={p.id} className="card product">
                <h2><a href={`/products/${p.id}`}>{p.name}</a></h2>
                <p>{tagline(p.manifest)}</p>
                <p className="meta">Plan: {p.plan}</p>
              </li>
            ))}
          </ul>
        ) : (
          <p className="empty">No products yet.</p>
        )}
        <dl className="facts">
          <dt>Status</dt><dd id="status">{tenant.status}</dd>
          <dt>Plan</dt><dd>{tenant.plan}</dd>
          {tenant.trial_ends_at && (<><dt>Trial ends</dt><dd><time dateTime={tenant.trial_ends_at}>{tenant.trial_ends_at}</time></dd></>)}
        </dl>
      </main>
    </>
  );
}
