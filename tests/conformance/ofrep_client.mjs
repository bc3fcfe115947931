// Evaluates the platform's flags with OpenFeature's own server SDK and its OFREP provider
// (@openfeature/server-sdk, @openfeature/ofrep-provider), and the bulk endpoint with OFREP's
// reference API client (@openfeature/ofrep-core's OFREPApi), ETag and 304 included. Reports what
// the SDK resolved; the calling test (tests/e2e/flags_e2etest.cpp) judges it.
// Usage: node ofrep_client.mjs BASE_URL BEARER TENANT_A TENANT_B
// Prints {"editor_a", "editor_b", "banner_a", "banner_b", "missing", "no_target", "wrong_type",
// "bulk": {"status", "flags", "etag", "again"}} where each detail is {value, variant, reason,
// errorCode, version}.
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPApi } from '@openfeature/ofrep-core';

const [base, bearer, a, b] = process.argv.slice(2);
const auth = ['Authorization', `Bearer ${bearer}`];
await OpenFeature.setProviderAndWait(new OFREPProvider({ baseUrl: base, headers: [auth] }));
const client = OpenFeature.getClient('breakpilot-test');

const detail = async (kind, key, fallback, context) => {
  const r = await client[kind](key, fallback, context);
  return {
    value: r.value,
    variant: r.variant ?? null,
    reason: r.reason ?? null,
    errorCode: r.errorCode ?? null,
    version: r.flagMetadata?.version ?? null,
  };
};

const out = {
  editor_a: await detail('getBooleanDetails', 'new-editor', false, { targetingKey: a }),
  editor_b: await detail('getBooleanDetails', 'new-editor', false, { targetingKey: b }),
  banner_a: await detail('getStringDetails', 'banner', 'none', { targetingKey: a }),
  banner_b: await detail('getStringDetails', 'banner', 'none', { targetingKey: b }),
  missing: await detail('getBooleanDetails', 'no-such-flag', true, { targetingKey: a }),
  no_target: await detail('getBooleanDetails', 'new-editor', true, {}),
  wrong_type: await detail('getNumberDetails', 'new-editor', 7, { targetingKey: a }),
};

const api = new OFREPApi(base);
const first = await api.postBulkEvaluateFlags({ context: { targetingKey: a } }, { headers: [auth] });
const etag = first.httpResponse.headers.get('ETag');
const again = await api.postBulkEvaluateFlags(
  { context: { targetingKey: a } },
  { headers: [auth, ['If-None-Match', etag]] },
);
out.bulk = {
  status: first.httpStatus,
  flags: first.value.flags.map((f) => [f.key, f.variant, f.reason]),
  etag,
  again: again.httpStatus,
};
await OpenFeature.close();
console.log(JSON.stringify(out));
