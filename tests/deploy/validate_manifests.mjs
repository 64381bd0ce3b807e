// Offline validation of Kubernetes manifests (multi-document YAML).
//
//   node validate_manifests.mjs [--atlas-policy] [--label NAME] FILE|- ...
//
// Every object is checked three ways:
//   1. schema: kubernetes-models@4 (the Kubernetes OpenAPI schemas compiled
//      with ajv): types, required fields, enums, formats. Its schemas allow
//      unknown fields, hence
//   2. unknown fields: the object is round-tripped through
//      @kubernetes/client-node@1's ObjectSerializer (typed by apiVersion and
//      kind), which keeps only the fields its models know; any field path of
//      the input that does not come back is an unknown field (a typo, or a
//      field of a newer Kubernetes than these models);
//   3. with --atlas-policy, the rules deploy/k8s promises (single-writer
//      StatefulSet, probes, securityContext, drain vs grace period, ...),
//      across all the objects of the input (one rendered overlay).
// An object whose apiVersion/kind the models do not know is an error too.
//
// Exit status: 0 all valid, 1 some object is invalid, 2 usage or I/O error.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// Loaded in run(), so that a missing dependency exits 2, not 1.
let parseAllDocuments;
let ObjectSerializer;
let clientModels;
let checkAtlasPolicy;

function usage(message) {
  if (message) console.error(`validate_manifests: ${message}`);
  console.error(
    'usage: node validate_manifests.mjs [--atlas-policy] [--label NAME] FILE|- ...');
  process.exit(2);
}

// "apps/v1" -> "kubernetes-models/apps/v1", "v1" -> "kubernetes-models/v1".
function loadModel(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' ||
      !/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) ||
      !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return null;
  }
  let module;
  try {
    module = require(`kubernetes-models/${apiVersion}`);
  } catch {
    return null;
  }
  const model = module[kind];
  return typeof model === 'function' && typeof model.prototype.validate === 'function'
      ? model : null;
}

// "apps/v1" + "StatefulSet" -> "V1StatefulSet" (client-node's model names).
function serializerType(apiVersion, kind) {
  const version = apiVersion.split('/').pop();
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function pointer(path) {
  return path.length === 0 ? '/' : path.map((p) => `/${p}`).join('');
}

// Paths of `input` missing from `output` (fields the serializer dropped).
function droppedFields(input, output, path = [], found = []) {
  if (Array.isArray(input)) {
    if (!Array.isArray(output)) return found;  // a type error: schema's job
    input.forEach((item, i) => droppedFields(item, output[i], [...path, i], found));
  } else if (isPlainObject(input)) {
    if (!isPlainObject(output)) return found;
    for (const key of Object.keys(input)) {
      if (input[key] === undefined) continue;
      if (!(key in output) || output[key] === undefined) {
        found.push(pointer([...path, key]));
      } else {
        droppedFields(input[key], output[key], [...path, key], found);
      }
    }
  }
  return found;
}

function unknownFields(object) {
  const type = serializerType(object.apiVersion, object.kind);
  // An unknown type would round-trip untouched: no field would be checked.
  if (typeof clientModels[type]?.getAttributeTypeMap !== 'function') {
    return [`${object.apiVersion} ${object.kind} is unknown to @kubernetes/client-node`];
  }
  const typed = ObjectSerializer.deserialize(structuredClone(object), type);
  const back = JSON.parse(JSON.stringify(ObjectSerializer.serialize(typed, type)));
  return droppedFields(object, back).map((path) => `${path}: unknown field`);
}

function schemaErrors(model, object) {
  try {
    new model(structuredClone(object)).validate();
    return [];
  } catch (error) {
    if (Array.isArray(error.errors)) {
      return error.errors.map((e) => {
        const extra = e.params && e.params.allowedValues
            ? ` (${e.params.allowedValues.join(', ')})` : '';
        return `${e.instancePath || '/'}: ${e.message}${extra}`;
      });
    }
    return [String(error.message || error)];
  }
}

function describe(object, index, source) {
  const name = isPlainObject(object) && isPlainObject(object.metadata)
      ? object.metadata.name : undefined;
  const kind = isPlainObject(object) ? object.kind : undefined;
  return `${source} document ${index + 1} (${kind || '?'} ${name || '?'})`;
}

// Returns [objects, errors] of one file: YAML errors are errors too.
function loadDocuments(file) {
  let text;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    console.error(`validate_manifests: cannot read ${file}: ${error.message}`);
    process.exit(2);
  }
  const objects = [];
  const errors = [];
  parseAllDocuments(text, { uniqueKeys: true }).forEach((doc, index) => {
    if (doc.errors.length > 0) {
      errors.push(`${file} document ${index + 1}: YAML: ${doc.errors[0].message}`);
      return;
    }
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push({ value, index });
  });
  return [objects, errors];
}

function main(argv) {
  let policy = false;
  let label = null;
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--atlas-policy') policy = true;
    else if (argv[i] === '--label') label = argv[++i] ?? usage('--label needs a value');
    else if (argv[i] === '-h' || argv[i] === '--help') usage();
    else if (argv[i].startsWith('--')) usage(`unknown option ${argv[i]}`);
    else files.push(argv[i]);
  }
  if (files.length === 0) usage('no input');

  const errors = [];
  const valid = [];
  let count = 0;
  for (const file of files) {
    const source = label ?? file;
    const [objects, yamlErrors] = loadDocuments(file);
    errors.push(...yamlErrors);
    for (const { value: object, index } of objects) {
      count++;
      const where = describe(object, index, source);
      if (!isPlainObject(object)) {
        errors.push(`${where}: not a mapping`);
        continue;
      }
      const model = loadModel(object.apiVersion, object.kind);
      if (model === null) {
        errors.push(`${where}: unknown apiVersion/kind ${object.apiVersion}/${object.kind}`);
        continue;
      }
      const problems = [
        ...schemaErrors(model, object),
        ...unknownFields(object),
      ];
      for (const problem of problems) errors.push(`${where}: ${problem}`);
      if (problems.length === 0) valid.push(object);
    }
  }
  if (count === 0 && errors.length === 0) errors.push(`${label ?? files.join(' ')}: no objects`);
  if (policy && errors.length === 0) {
    for (const problem of checkAtlasPolicy(valid)) {
      errors.push(`${label ?? files.join(' ')}: atlas policy: ${problem}`);
    }
  }

  for (const error of errors) console.error(`INVALID ${error}`);
  const name = label ?? files.join(' ');
  if (errors.length > 0) {
    console.error(`validate_manifests: ${name}: ${errors.length} problem(s) in ${count} object(s)`);
    return 1;
  }
  console.log(`validate_manifests: ${name}: ${count} object(s) valid` +
              (policy ? ' (schemas, unknown fields, atlas policy)' : ' (schemas, unknown fields)'));
  return 0;
}

async function run() {
  try {
    ({ parseAllDocuments } = await import('yaml'));
    // client-node's public ObjectSerializer (not re-exported by its index).
    ({ ObjectSerializer } = await import('@kubernetes/client-node/dist/serializer.js'));
    clientModels = await import('@kubernetes/client-node');
    ({ checkAtlasPolicy } = await import('./atlas_policy.mjs'));
    require('kubernetes-models/v1');
  } catch (error) {
    console.error(`validate_manifests: cannot load the validators (run npm ci in tests/deploy): ${error.message}`);
    return 2;
  }
  try {
    return main(process.argv.slice(2));
  } catch (error) {
    console.error(`validate_manifests: internal error: ${error.stack || error}`);
    return 2;
  }
}

process.exitCode = await run();
