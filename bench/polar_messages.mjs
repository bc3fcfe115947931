// Writes N Polar webhook messages, each with a fresh webhook-id, signed now by the Standard
// Webhooks reference library keyed by the secret's own bytes (as Polar signs), one per line:
// id TAB timestamp TAB signature TAB body. For bench/billing_bench.sh.
//   node bench/polar_messages.mjs N FILE SECRET
import fs from 'node:fs';
import { Webhook } from 'standardwebhooks';

const [n, file, secret] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const signer = new Webhook(Buffer.from(secret, 'utf8').toString('base64'));
const now = new Date();
const seconds = Math.floor(now.getTime() / 1000);
const out = fs.createWriteStream(file);
for (let i = 0; i < n; i++) {
  const id = `msg_bench_${i}`;
  const body = JSON.stringify({
    type: 'checkout.updated',
    timestamp: now.toISOString(),
    data: { id: `0190f2d8-2a0e-7cc1-8000-${String(i).padStart(12, '0')}`, status: 'open', metadata: {} },
  });
  out.write(`${id}\t${seconds}\t${signer.sign(id, now, body)}\t${body}\n`);
}
out.end();
