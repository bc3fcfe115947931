// OpenAPI conformance of real traffic: every response the end-to-end tests received (recorded
// by tests/support/http_client.cpp) must be declared in api/openapi.yaml for its operation and
// status, carry a declared content type, and validate against the declared JSON Schema (Ajv,
// JSON Schema 2020-12 as OpenAPI 3.1 uses). Every operation in the document must have been
// exercised at least once.
//
//   node tests/conformance/openapi_responses.mjs api/openapi.yaml build-debug/exchanges.jsonl
import fs from 'node:fs';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [docPath, logPath] = process.argv.slice(2);
const doc = YAML.parse(fs.readFileSync(docPath, 'utf8'));
const lines = fs.existsSync(logPath)
  ? fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean)
  : [];
if (lines.length === 0) {
  console.error(`no exchanges recorded in ${logPath}: the end-to-end tests did not run`);
  process.exit(1);
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const compiled = new Map();
function validatorFor(key, schema) {
  if (!compiled.has(key)) {
    // The response schema at the root, with the document's components beside it, so that
    // '#/components/...' references resolve as they do in the document.
    compiled.set(key, ajv.compile({ allOf: [schema], components: doc.components }));
  }
  return compiled.get(key);
}

function deref(obj) {
  while (obj && obj.$ref) {
    obj = obj.$ref.slice(2).split('/').reduce((o, k) => o[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return obj;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const templates = Object.keys(doc.paths).map((t) => ({
  template: t,
  params: (t.match(/\{/g) || []).length,
  re: new RegExp('^' + t.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
}));
function matchTemplate(path) {
  const hits = templates.filter((t) => t.re.test(path)).sort((a, b) => a.params - b.params);
  return hits[0]?.template;
}

const problemSchema = doc.components.schemas.Problem;
const failures = [];
const exercised = new Set();
let checked = 0;

function checkBody(where, schemaKey, schema, body) {
  let value;
  try {
    value = JSON.parse(body);
  } catch {
    failures.push(`${where}: body is not JSON: ${body.slice(0, 120)}`);
    return;
  }
  const validate = validatorFor(schemaKey, schema);
  if (!validate(value)) {
    failures.push(`${where}: ${ajv.errorsText(validate.errors)} in ${body.slice(0, 200)}`);
  }
}

for (const line of lines) {
  const x = JSON.parse(line);
  checked++;
  const mediaType = (x.content_type || '').split(';')[0].trim().toLowerCase();
  const method = x.method === 'HEAD' ? 'get' : x.method.toLowerCase();
  const template = matchTemplate(x.path);
  const where = `${x.method} ${x.path} -> ${x.status}`;
  const op = template && METHODS.includes(method) ? doc.paths[template][method] : undefined;
  // No answer carries our source paths, file:line or a library's type names (issue 21).
  const leak = /\/usr\/include\/|boost::|std::|__cxx11|\.(cpp|hpp|ipp):\d/.exec(x.body || '');
  if (leak) failures.push(`${where}: the answer carries '${leak[0]}'`);
  // A 5xx is a failure, except a 503 the operation documents (a full queue: retry later).
  if (x.status >= 500 && !(x.status === 503 && op?.responses?.['503'])) {
    failures.push(`${where}: a 5xx answer`);
  }
  // Refusals of the transport itself, before any route runs (see the document's description).
  const transport = /problems\/(bad-request|bad-target|payload-too-large|headers-too-large)"/.test(x.body);
  if (!op || transport) {
    // Unknown path (404), unknown method (405), or refused before routing (400/413/431).
    if (x.status < 400 || mediaType !== 'application/problem+json') {
      failures.push(`${where}: no operation in the document, and not a problem+json error`);
    } else {
      checkBody(where, 'Problem', problemSchema, x.body);
    }
    continue;
  }
  exercised.add(`${method.toUpperCase()} ${template}`);
  const response = deref(op.responses[String(x.status)] ?? op.responses.default);
  if (!response) {
    failures.push(`${where}: status ${x.status} is not declared for ${method.toUpperCase()} ${template}`);
    continue;
  }
  if (!response.content) {
    if (x.body !== '' && x.method !== 'HEAD') failures.push(`${where}: declared without a body, got one`);
    continue;
  }
  if (x.method === 'HEAD') continue;
  const media = response.content[mediaType];
  if (!media) {
    failures.push(`${where}: content type '${mediaType}' not declared (${Object.keys(response.content)})`);
    continue;
  }
  if (mediaType.endsWith('json') && media.schema) {
    checkBody(where, `${method} ${template} ${x.status} ${mediaType}`, media.schema, x.body);
  }
}

const missing = [];
for (const [template, item] of Object.entries(doc.paths)) {
  for (const m of METHODS) {
    if (item[m] && !exercised.has(`${m.toUpperCase()} ${template}`)) missing.push(`${m.toUpperCase()} ${template}`);
  }
}
for (const m of missing) failures.push(`operation never exercised by a test: ${m}`);

const total = exercised.size + missing.length;
console.log(`openapi_responses: ${checked} exchanges checked; ${exercised.size} of ${total} operations exercised`);
if (failures.length) {
  for (const f of failures.slice(0, 60)) console.error('FAIL ' + f);
  if (failures.length > 60) console.error(`... and ${failures.length - 60} more`);
  process.exit(1);
}
