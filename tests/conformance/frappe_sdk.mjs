// Proves the Frappe contract fake (tests/support/fake_frappe.cpp) with Frappe's own JavaScript
// client, frappe-js-sdk: the documents our C++ client made read back through the SDK as ERPNext
// would give them, and the SDK's own calls of the same kinds (create with a name, read, update,
// a filtered list) succeed against the fake, its errors coming out as the SDK reports Frappe's.
// Usage: node frappe_sdk.mjs BASE_URL API_KEY API_SECRET TENANT_ID
// Prints {"customer", "invoices", "duplicate", "missing", "unauthorized"} on success.
import { FrappeApp } from 'frappe-js-sdk';

const [base, key, secret, tenant] = process.argv.slice(2);
const app = new FrappeApp(base, { useToken: true, token: () => `${key}:${secret}`, type: 'token' });
const db = app.db();
const fail = (m) => { console.error(`FAIL ${m}`); process.exit(1); };

// What our client made.
const customer = await db.getDoc('Customer', `BP-${tenant}`);
if (customer.breakpilot_tenant_id !== tenant || customer.doctype !== 'Customer') fail('the customer our client made');
const invoices = await db.getDocList('Sales Invoice', {
  fields: ['name', 'grand_total', 'currency', 'polar_order_id'],
  filters: [['customer', '=', `BP-${tenant}`]],
  limit: 50,
});
if (invoices.length !== 1 || invoices[0].grand_total !== 58.31) fail(`the invoice our client made: ${JSON.stringify(invoices)}`);
const opportunity = await db.getDoc('Opportunity', `BP-OPP-${tenant}`);
if (opportunity.status !== 'Lost' || !opportunity.order_lost_reason) fail('the lost opportunity');

// The SDK's own calls of the same kinds.
const lead = await db.createDoc('Lead', { name: `BP-LEAD-sdk-${tenant}`, lead_name: 'SDK', lead_owner: 'sally' });
if (lead.name !== `BP-LEAD-sdk-${tenant}` || lead.docstatus !== 0) fail('createDoc with a name');
const updated = await db.updateDoc('Lead', lead.name, { status: 'Opportunity' });
if (updated.status !== 'Opportunity') fail('updateDoc');
let duplicate = '';
try { await db.createDoc('Lead', { name: lead.name, lead_name: 'again' }); } catch (e) { duplicate = `${e.httpStatus} ${e.exception}`; }
if (!duplicate.startsWith('409 frappe.exceptions.DuplicateEntryError')) fail(`a taken name: ${duplicate}`);
let missing = '';
try { await db.getDoc('Customer', 'BP-nobody'); } catch (e) { missing = `${e.httpStatus} ${e.exc_type}`; }
if (missing !== '404 DoesNotExistError') fail(`a missing document: ${missing}`);
let unauthorized = '';
try {
  await new FrappeApp(base, { useToken: true, token: () => `${key}:wrong`, type: 'token' }).db().getDoc('Customer', `BP-${tenant}`);
} catch (e) { unauthorized = `${e.httpStatus} ${e.exc_type}`; }
if (unauthorized !== '401 AuthenticationError') fail(`a wrong secret: ${unauthorized}`);
console.log(JSON.stringify({ customer: customer.name, invoices: invoices.length, duplicate, missing, unauthorized }));
