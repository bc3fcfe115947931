// Proves the Frappe contract fake (tests/support/fake_frappe.cpp) as Frappe Helpdesk with
// Frappe's own JavaScript client, frappe-js-sdk: the ticket our C++ client opened reads back as
// Helpdesk gives it (an autoincrement name, status, the HD Customer link), and the SDK's own
// calls of the same kinds (an HD Ticket created without a name, a filtered list, the status
// set) succeed against the fake, its refusals coming out as the SDK reports Frappe's.
// Usage: node helpdesk_sdk.mjs BASE_URL API_KEY API_SECRET TENANT_ID TICKET_ID
// Prints {"ticket", "listed", "made", "missing"} on success. The tenant has two tickets of ours.
import { FrappeApp } from 'frappe-js-sdk';

const [base, key, secret, tenant, ticketId] = process.argv.slice(2);
const db = new FrappeApp(base, { useToken: true, token: () => `${key}:${secret}`, type: 'token' }).db();
const fail = (m) => { console.error(`FAIL ${m}`); process.exit(1); };
const customer = `BP-${tenant}`;

// What our client made.
const ticket = await db.getDoc('HD Ticket', ticketId);
if (ticket.name !== Number(ticketId) || ticket.customer !== customer || ticket.status !== 'Resolved') {
  fail(`the ticket our client opened and resolved: ${JSON.stringify(ticket)}`);
}
const hdCustomer = await db.getDoc('HD Customer', customer);
if (hdCustomer.breakpilot_tenant_id !== tenant) fail('the HD Customer our client made');

// The SDK's own calls of the same kinds.
const made = await db.createDoc('HD Ticket', { subject: 'From the SDK', description: 'x', raised_by: 'sdk@example.com', customer });
if (typeof made.name !== 'number' || made.status !== 'Open') fail(`createDoc of an autoincrement doctype: ${JSON.stringify(made)}`);
const listed = await db.getDocList('HD Ticket', {
  fields: ['name', 'subject', 'status', 'customer'],
  filters: [['customer', '=', customer]],
  limit: 100,
});
if (listed.length !== 3 || !listed.some((t) => t.name === made.name)) fail(`getDocList: ${JSON.stringify(listed)}`);
const resolved = await db.updateDoc('HD Ticket', String(made.name), { status: 'Resolved' });
if (resolved.status !== 'Resolved') fail('updateDoc');
let missing = '';
try { await db.createDoc('HD Ticket', { description: 'no subject', customer }); } catch (e) { missing = `${e.httpStatus} ${e.exc_type}`; }
if (missing !== '417 MandatoryError') fail(`a ticket without a subject: ${missing}`);
console.log(JSON.stringify({ ticket: ticket.name, listed: listed.length, made: made.name, missing }));
