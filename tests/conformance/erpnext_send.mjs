// ERPNext's webhook messages, signed as Frappe signs them (frappe/integrations/doctype/webhook:
// X-Frappe-Webhook-Signature is base64 HMAC-SHA256 of the body under the webhook's secret),
// computed with Node's crypto, and sent to the platform. Usage: node erpnext_send.mjs FILE,
// FILE holding {"url", "secret", "messages": [{"doc": {...}, "tamper": "body|signature|"}]}.
// Prints [{"status", "body"}] in the same order.
import crypto from 'node:crypto';
import fs from 'node:fs';

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = [];
for (const m of input.messages) {
  const body = JSON.stringify(m.doc);
  const key = m.tamper === 'signature' ? 'another secret' : input.secret;
  const signature = crypto.createHmac('sha256', key).update(body).digest('base64');
  const sent = m.tamper === 'body' ? body.replace(/.$/, ' }') : body;
  const r = await fetch(input.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-frappe-webhook-signature': signature },
    body: sent,
  });
  out.push({ status: r.status, body: await r.text() });
}
console.log(JSON.stringify(out));
