// Proves the Polar contract fake (tests/support/fake_polar.cpp) with Polar's own client,
// @polar-sh/sdk: the calls billing::PolarClient makes, made by the SDK against the fake, must
// succeed and read back as the SDK's types say; its errors must come out as the SDK's error
// classes. Usage: node polar_sdk.mjs BASE_URL TOKEN MODE ARGS...
//   checkout PRODUCT_ID TENANT_ID   create a checkout as our client does, read it back; prints
//                                    {"id", "url", "external_customer_id", "metadata"}
//   session EXTERNAL_ID              a customer session; prints {"url"} or {"error": class name}
//   unauthorized                     a call with a wrong token; prints {"error", "status"}
import { createPolar } from '@polar-sh/sdk/2026-10';

const [base, token, mode, ...args] = process.argv.slice(2);
const polar = createPolar({ accessToken: token, baseUrl: base, timeout: 10 });
const fail = (m) => { console.error(`FAIL ${m}`); process.exit(1); };

if (mode === 'checkout') {
  const [product, tenant] = args;
  const made = await polar.checkouts.create({
    products: [product],
    metadata: { tenant_id: tenant, plan: 'professional' },
    external_customer_id: tenant,
    success_url: 'https://acme.example/billing?paid=1',
    return_url: 'https://acme.example/billing',
  });
  if (made.status !== 'open' || !made.url || made.external_customer_id !== tenant) fail('checkout');
  const read = await polar.checkouts.get(made.id);
  if (read.id !== made.id || read.metadata.tenant_id !== tenant) fail('checkout read back');
  let refused = false;
  try {
    await polar.checkouts.create({ products: ['no-such-product'] });
  } catch (e) {
    refused = e.name === 'HTTPValidationError' && Array.isArray(e.error?.detail);
  }
  if (!refused) fail('an unknown product is not a HTTPValidationError');
  console.log(JSON.stringify({ id: made.id, url: made.url, external_customer_id: made.external_customer_id, metadata: made.metadata }));
} else if (mode === 'session') {
  try {
    const s = await polar.customerSessions.create({ external_customer_id: args[0], return_url: 'https://acme.example/billing' });
    if (!s.customer_portal_url || !s.token) fail('customer session');
    console.log(JSON.stringify({ url: s.customer_portal_url }));
  } catch (e) {
    console.log(JSON.stringify({ error: e.name, detail: e.error?.detail ?? e.message }));
  }
} else if (mode === 'unauthorized') {
  const wrong = createPolar({ accessToken: 'polar_oat_wrong', baseUrl: base, timeout: 10 });
  try {
    await wrong.checkouts.get('x');
    fail('a wrong token was accepted');
  } catch (e) {
    console.log(JSON.stringify({ error: e.name, status: e.statusCode }));
  }
} else {
  fail(`unknown mode ${mode}`);
}
