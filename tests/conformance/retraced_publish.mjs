// The official Retraced publisher client (@retracedhq/retraced) against our publisher paths.
// reportEvent and reportEvents each recompute Retraced's event hash locally and throw when it
// differs from the server's answer, so a zero exit means every hash check passed.
//
//   node tests/conformance/retraced_publish.mjs <endpoint> <projectId> <apiKey> <groupId>
// Prints {"single": id, "bulk": [ids]} on success.
import retraced from '@retracedhq/retraced';

const [endpoint, projectId, apiKey, groupId] = process.argv.slice(2);
const client = new retraced.Client({ endpoint, projectId, apiKey, component: 'conformance', version: '1.2.3' });

const single = {
  action: 'document.share',
  crud: 'u',
  group: { id: groupId, name: 'Acme: the tenant' },
  actor: { id: 'user:ada', name: 'Ada Lovelace', href: 'https://example.com/users/ada' },
  target: { id: 'doc%42:draft', name: 'Q3 plan', type: 'document' },
  source_ip: '2001:db8::7',
  description: 'shared "Q3 plan", with 3 people',
  is_failure: false,
  is_anonymous: false,
  created: new Date('2026-11-01T10:00:00.123Z'),
  fields: { 'recipients': 'bob;carol=dave', 'mode:': '100%', 'empty': '' },
  external_id: 'ext:1',
  metadata: { trace: 'a=b;c' },
};

const bulk = [
  { action: 'user.login', crud: 'c', group: { id: groupId }, actor: { id: 'user:bob' }, is_failure: true, source_ip: '10.0.0.8' },
  { action: 'system.ping', crud: 'r', group: { id: groupId }, is_anonymous: true },
  { action: 'settings.update', crud: 'u', group: { id: groupId }, actor: { id: 'user:carol' }, fields: { z: '1', a: '2' } },
];

const id = await client.reportEvent(single);
const ids = await client.reportEvents(bulk);
console.log(JSON.stringify({ single: id, bulk: ids }));
