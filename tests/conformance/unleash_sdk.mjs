// Evaluates Unleash features for tenants with Unleash's own Node SDK (unleash-client), against
// the same Unleash the platform reads, so the test can compare the platform's local evaluation
// (tests/e2e/unleash_e2etest.cpp) with the vendor's: rollout buckets, constraints, variants.
// Usage: node unleash_sdk.mjs UNLEASH_URL CLIENT_TOKEN FEATURE TENANT_ID[,TENANT_ID...] [PLAN]
// Prints {"<tenant id>": {"enabled": bool, "variant": name-or-null}, ...}.
import { initialize } from 'unleash-client';

const [url, token, feature, ids, plan] = process.argv.slice(2);
const client = initialize({
  url: `${url}/api/`,
  appName: 'breakpilot-test',
  customHeaders: { Authorization: token },
  disableMetrics: true,
  refreshInterval: 60000,
});
await new Promise((resolve, reject) => {
  client.on('synchronized', resolve);
  client.on('error', reject);
});
const out = {};
for (const id of ids.split(',')) {
  const context = { userId: id, properties: { tenantId: id, plan: plan ?? 'starter', status: 'trial', kind: 'customer' } };
  const variant = client.getVariant(feature, context);
  out[id] = { enabled: client.isEnabled(feature, context), variant: variant.enabled ? variant.name : null };
}
client.destroy();
console.log(JSON.stringify(out));
