// Polar's webhook messages, signed the way Polar signs them and sent to the platform. The
// signature comes from the Standard Webhooks reference library (`standardwebhooks`), keyed by the
// secret's own bytes as Polar keys it, and each untampered message is first checked by Polar's own
// SDK (`webhooks.validateEvent` of @polar-sh/sdk), so what we accept is what Polar sends.
// Usage: node polar_send.mjs FILE, FILE holding
//   {"url": "http://127.0.0.1:PORT/polar/webhook", "secret": "...", "clock_offset": 0,
//    "messages": [{"id": "msg_...", "body": "...", "age": 0, "tamper": "body|signature|"}]}
// `clock_offset`: seconds the platform's clock is ahead (the test clock); `age`: seconds the
// message's timestamp lies before that. Prints [{"id", "status", "body"}] in the same order.
import fs from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { webhooks } from '@polar-sh/sdk/2026-10';

const input = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const key = Buffer.from(input.secret, 'utf8').toString('base64');
const signer = new Webhook(key);
const out = [];
for (const m of input.messages) {
  const seconds = Math.floor(Date.now() / 1000) + (input.clock_offset ?? 0) - (m.age ?? 0);
  const signature = signer.sign(m.id, new Date(seconds * 1000), m.body);
  const headers = {
    'content-type': 'application/json',
    'webhook-id': m.id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signature,
  };
  if (!m.tamper && !m.age && !input.clock_offset) {
    // Polar's SDK must accept exactly what we are about to send.
    try {
      await webhooks.validateEvent(m.body, headers, input.secret);
    } catch (e) {
      // A body that is not a Polar event (a test's junk) may fail to parse; a signature never.
      if (e.name === 'PolarWebhookVerificationError') throw e;
    }
  }
  let body = m.body;
  if (m.tamper === 'body') {
    // One byte changed: the last digit or letter of the body.
    const i = body.search(/[0-9a-f](?=[^0-9a-f]*$)/);
    body = body.slice(0, i) + (body[i] === '0' ? '1' : '0') + body.slice(i + 1);
  }
  if (m.tamper === 'signature') headers['webhook-signature'] = new Webhook(Buffer.from('another secret').toString('base64')).sign(m.id, new Date(seconds * 1000), m.body);
  const r = await fetch(input.url, { method: 'POST', headers, body });
  out.push({ id: m.id, status: r.status, body: await r.text() });
}
console.log(JSON.stringify(out));
