// Webhook deliveries checked by the Standard Webhooks reference library (`standardwebhooks`) and
// by Svix's own (`svix`): every recorded delivery must verify with the secret(s) given, and a
// tampered body must not. Usage: node webhook_verify.mjs FILE, FILE holding
//   {"secrets": ["whsec_..."], "deliveries": [{"headers": {...}, "body": "..."}]}
// Each delivery is verified with each secret in turn (a rotation's grace: both must verify).
import fs from 'node:fs';
import { Webhook as Standard } from 'standardwebhooks';
import { Webhook as Svix } from 'svix';

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let failures = 0;
const fail = (m) => { failures++; console.error(`FAIL ${m}`); };
if (!input.deliveries.length) fail('no deliveries to verify');
for (const [i, d] of input.deliveries.entries()) {
  const h = d.headers;
  for (const secret of input.secrets) {
    try {
      const payload = new Standard(secret).verify(d.body, h);
      if (!payload || typeof payload.type !== 'string') fail(`${i}: standardwebhooks gave no payload`);
    } catch (e) {
      fail(`${i}: standardwebhooks refused (${e.message})`);
    }
    try {
      new Svix(secret).verify(d.body, {
        'svix-id': h['webhook-id'], 'svix-timestamp': h['webhook-timestamp'],
        'svix-signature': h['webhook-signature'],
      });
    } catch (e) {
      fail(`${i}: svix refused (${e.message})`);
    }
    let tamperedOk = true;
    try { new Standard(secret).verify(d.body + ' ', h); } catch { tamperedOk = false; }
    if (tamperedOk) fail(`${i}: a tampered body verified`);
  }
}
if (failures) { console.error(`${failures} failure(s)`); process.exit(1); }
console.log(`PASS ${input.deliveries.length} deliveries x ${input.secrets.length} secret(s)`);
