// Gitea's webhook messages, signed as Gitea signs them (services/webhook: X-Gitea-Signature is
// the hex HMAC-SHA256 of the body under the webhook's secret), computed with Node's crypto, and
// sent to the platform with Gitea's headers (X-Gitea-Event, X-Gitea-Delivery).
// Usage: node gitea_send.mjs FILE, FILE holding
//   {"url": "http://127.0.0.1:PORT/gitea/webhook", "secret": "...",
//    "messages": [{"event": "issues", "body": "...", "tamper": "body|signature|"}]}
// Prints [{"status", "body"}] in the same order; without "url", only [{"signature"}].
import crypto from 'node:crypto';
import fs from 'node:fs';

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const out = [];
for (const m of input.messages) {
  const key = m.tamper === 'signature' ? 'another secret' : input.secret;
  const signature = crypto.createHmac('sha256', key).update(m.body).digest('hex');
  if (!input.url) {
    out.push({ signature });
    continue;
  }
  const sent = m.tamper === 'body' ? m.body.replace(/.$/, ' }') : m.body;
  const r = await fetch(input.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': m.event,
      'x-gitea-delivery': crypto.randomUUID(),
      'x-gitea-signature': signature,
    },
    body: sent,
  });
  out.push({ status: r.status, body: await r.text() });
}
console.log(JSON.stringify(out));
