// The product manifest's JSON Schema checked by Ajv, the reference JSON Schema validator
// (2020-12, strict): it compiles, echo-bot's manifest and the sample catalog's pass, and every
// broken manifest of tests/conformance/manifests/broken fails at the field its "# expect:" line
// names, as the platform's own check (catalog/yaml_schema.cpp) reports it.
// Usage: node manifest_schema.mjs <source dir>
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import YAML from 'yaml';

const root = process.argv[2];
const ajv = new Ajv2020({ strict: true, allErrors: true });
ajv.addKeyword({ keyword: 'x-message', schemaType: 'string' });
const schema = JSON.parse(fs.readFileSync(path.join(root, 'api/product-manifest.schema.json'), 'utf8'));
const validate = ajv.compile(schema);

// Our field names: "plans[1]", "portal.web_component.tag".
const field = (pointer, extra) => {
  const parts = pointer.split('/').slice(1);
  if (extra !== undefined) parts.push(String(extra));
  return parts.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');
};
const fieldsOf = (errors) => errors.map((e) => {
  if (e.keyword === 'required') return field(e.instancePath, e.params.missingProperty);
  if (e.keyword === 'additionalProperties') return field(e.instancePath, e.params.additionalProperty);
  if (e.keyword === 'uniqueItems') return field(e.instancePath, e.params.i);
  return field(e.instancePath);
});

let failures = 0;
const fail = (msg) => { failures++; console.error(`FAIL ${msg}`); };

const valid = ['examples/echo-bot/product.manifest.yaml',
  ...fs.readdirSync(path.join(root, 'data/catalog')).map((d) => `data/catalog/${d}/product.manifest.yaml`)];
for (const file of valid) {
  const doc = YAML.parse(fs.readFileSync(path.join(root, file), 'utf8'));
  if (!validate(doc)) fail(`${file}: ${ajv.errorsText(validate.errors)}`);
  else console.log(`ok   ${file} is valid`);
}

const brokenDir = path.join(root, 'tests/conformance/manifests/broken');
const broken = fs.readdirSync(brokenDir).filter((f) => f.endsWith('.yaml'));
if (broken.length < 12) fail(`only ${broken.length} broken manifests`);
for (const file of broken) {
  const text = fs.readFileSync(path.join(brokenDir, file), 'utf8');
  const head = text.split('\n')[0];
  const expected = head.replace('# expect: ', '').replace(/ @\d+$/, '');
  if (validate(YAML.parse(text))) { fail(`${file}: Ajv accepts it`); continue; }
  const fields = fieldsOf(validate.errors);
  if (!fields.some((f) => expected === f || expected.startsWith(`${f} `))) {
    fail(`${file}: expected "${expected}", Ajv says ${JSON.stringify(fields)}`);
  } else {
    console.log(`ok   ${file}: ${expected}`);
  }
}
if (failures) { console.error(`${failures} failure(s)`); process.exit(1); }
console.log(`manifest schema: ${valid.length} valid and ${broken.length} broken manifests agree with Ajv`);
