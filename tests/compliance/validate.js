#!/usr/bin/env node
// Independent JSON Schema validation of evidence documents with ajv 8 +
// ajv-formats (npm, pinned by package-lock.json) against the official
// schemas in compliance/data/schemas (checked against their SHA256SUMS
// first).
//
//   node validate.js SCHEMA_DIR KIND FILE [--expect-invalid]
//   node validate.js SCHEMA_DIR --bundle DIR
//
// KIND: catalog, component-definition, assessment-plan, assessment-results,
// cyclonedx, spdx. Exit 0 when the outcome is the expected one, 1 otherwise.
// --bundle validates every document of an evidence bundle by its name.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const SCHEMAS = {
  'catalog': 'oscal-1.2.1/oscal_catalog_schema.json',
  'component-definition': 'oscal-1.2.1/oscal_component_schema.json',
  'assessment-plan': 'oscal-1.2.1/oscal_assessment-plan_schema.json',
  'assessment-results': 'oscal-1.2.1/oscal_assessment-results_schema.json',
  'cyclonedx': 'cyclonedx-1.6/bom-1.6.schema.json',
  'spdx': 'spdx-2.3/spdx-schema.json',
};
const BUNDLE_FILES = {
  'catalog-soc2.json': 'catalog',
  'catalog-gdpr.json': 'catalog',
  'component-definition.json': 'component-definition',
  'assessment-plan.json': 'assessment-plan',
  'assessment-results.json': 'assessment-results',
  'sbom.cdx.json': 'cyclonedx',
  'sbom.spdx.json': 'spdx',
};

function checkSums(dir) {
  const sums = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8');
  let n = 0;
  for (const line of sums.split('\n')) {
    if (!line.trim()) continue;
    const [want, file] = line.split(/\s+/);
    const got = crypto.createHash('sha256')
        .update(fs.readFileSync(path.join(dir, file))).digest('hex');
    if (got !== want) throw new Error(`schema ${file}: sha256 ${got}, SHA256SUMS says ${want}`);
    n++;
  }
  return n;
}

function makeAjv(dir, kind) {
  // strict: false: the official schemas use keywords/format names ajv's
  // strict mode rejects; unicodeRegExp (default) for OSCAL's \p{L}.
  const ajv = new Ajv({strict: false, allErrors: false, unicodeRegExp: true});
  addFormats(ajv);
  // CycloneDX uses two formats ajv-formats does not define: check them
  // loosely (no whitespace; one '@') rather than ignoring them.
  ajv.addFormat('iri-reference', /^[^\s]*$/u);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  if (kind === 'cyclonedx') {
    for (const f of ['spdx.schema.json', 'jsf-0.82.schema.json']) {
      ajv.addSchema(JSON.parse(fs.readFileSync(path.join(dir, 'cyclonedx-1.6', f), 'utf8')));
    }
  }
  const schema = JSON.parse(fs.readFileSync(path.join(dir, SCHEMAS[kind]), 'utf8'));
  return ajv.compile(schema);
}

function validate(dir, kind, file) {
  if (!SCHEMAS[kind]) throw new Error(`unknown kind ${kind}`);
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const v = makeAjv(dir, kind);
  const ok = v(doc);
  return {ok, errors: ok ? '' : JSON.stringify(v.errors.slice(0, 3))};
}

function main(argv) {
  const dir = argv[0];
  const n = checkSums(dir);
  if (argv[1] === '--bundle') {
    const bundle = argv[2];
    let bad = 0;
    for (const [name, kind] of Object.entries(BUNDLE_FILES)) {
      const r = validate(dir, kind, path.join(bundle, name));
      console.log(`${r.ok ? 'valid  ' : 'INVALID'} ${name} (${kind})${r.ok ? '' : ': ' + r.errors}`);
      if (!r.ok) bad++;
    }
    console.log(`${n} schemas checked against SHA256SUMS; ${bad} invalid document(s)`);
    return bad === 0 ? 0 : 1;
  }
  const [kind, file, flag] = argv.slice(1);
  const expectInvalid = flag === '--expect-invalid';
  const r = validate(dir, kind, file);
  console.log(`${r.ok ? 'valid' : 'INVALID'} ${file} (${kind})${r.ok ? '' : ': ' + r.errors}`);
  return r.ok !== expectInvalid ? 0 : 1;
}

try {
  process.exit(main(process.argv.slice(2)));
} catch (e) {
  console.error(`validate.js: ${e.message}`);
  process.exit(1);
}
