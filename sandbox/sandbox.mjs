// The local SMART sandbox: the same real servers the tests use, on 127.0.0.1, seeded and with
// demo clients registered. Started by `scripts/sandbox` (which installs what it needs first).
//
//   node sandbox/sandbox.mjs [--fhir-port 8090] [--auth-port 8091] [--interactive] [--dir .cache/sandbox]
//
// - FHIR R4 server: PyPI sekmet-fhir (pinned by scripts/install-test-servers), with SMART bearer
//   tokens required and their scopes enforced, seeded with sandbox/seed.json (synthetic data
//   written for fhirstorm: three patients, their conditions, medications and weights) and a
//   generated cohort for bulk export (`cohortBundle`, the Group `sandbox-cohort`).
// - SMART authorization server: npm oidc-provider (tests/smart-server/server.mjs, pinned by its
//   package-lock.json), signing access tokens with a key it shares with the FHIR server.
// Prints the addresses and demo clients, writes them to DIR/sandbox.json, prints a line
// `SANDBOX READY` and runs until Ctrl-C (or SIGTERM), then stops both servers.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
if (args.includes('--help')) {
  console.log('usage: scripts/sandbox [--fhir-port 8090] [--auth-port 8091] [--interactive] [--dir .cache/sandbox]');
  process.exit(0);
}
const fhirPort = Number(opt('--fhir-port', process.env.SANDBOX_FHIR_PORT ?? 8090));
const authPort = Number(opt('--auth-port', process.env.SANDBOX_AUTH_PORT ?? 8091));
const interactive = args.includes('--interactive');
const dir = path.resolve(opt('--dir', path.join(root, '.cache/sandbox')));
const sekmet = process.env.FHIRSTORM_SEKMET ?? path.join(root, '.cache/sekmet-venv/bin/sekmet');
const harness = path.join(root, 'tests/smart-server/server.mjs');

const fhirBase = `http://127.0.0.1:${fhirPort}/fhir`;
const issuer = `http://127.0.0.1:${authPort}`;
const redirects = ['http://127.0.0.1:8000/callback', 'http://localhost:8000/callback'];
const clients = {
  confidential: { client_id: 'demo-confidential', client_secret: 'demo-secret-for-the-local-sandbox-only' },
  public: { client_id: 'demo-public' },
  // A desktop or command-line app (RFC 8252): any port on 127.0.0.1 (auth::LoopbackRedirect).
  native: { client_id: 'demo-native' },
  backend: { client_id: 'demo-backend' },
};
const patient = 'sandbox-1';
const user = { id: 'dr-okafor', fhirUser: 'Practitioner/dr-1', name: 'Dr. Amara Okafor' };

const children = [];
let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 300);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

function fail(msg) {
  console.error(`sandbox: ${msg}`);
  stop(1);
}

function start(name, cmd, argv, log) {
  const out = fs.openSync(log, 'a');
  const child = spawn(cmd, argv, { cwd: dir, stdio: ['ignore', 'pipe', out] });
  children.push(child);
  child.on('exit', (code) => {
    if (!stopping) fail(`${name} stopped (exit ${code}); see ${log}`);
  });
  return child;
}

async function waitFor(url, what) {
  for (let i = 0; i < 150; i++) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not answer at ${url} within 30 s`);
}

async function main() {
  if (!fs.existsSync(sekmet)) throw new Error(`the FHIR server is not installed at ${sekmet}: run scripts/install-test-servers`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });

  // Client keys for private_key_jwt (RS384, ES384).
  const keys = spawnSync(process.execPath, [harness, '--keys', path.join(dir, 'keys')], { stdio: 'inherit' });
  if (keys.status !== 0) throw new Error('generating client keys failed');
  const jwks = JSON.parse(fs.readFileSync(path.join(dir, 'keys/jwks.json'), 'utf8'));

  // The FHIR server, trusting access tokens signed with a key shared with the auth server.
  const tokenKey = crypto.randomBytes(32).toString('base64url');
  const adminToken = crypto.randomBytes(24).toString('base64url');
  fs.writeFileSync(path.join(dir, 'settings.yaml'), [
    'host: 127.0.0.1', `port: ${fhirPort}`, `base_url: ${fhirBase}`, `data_dir: ${path.join(dir, 'data')}`,
    'simulator:', '  enabled: false', 'log_inbound: false',
    'server_auth:', '  types: [smart, bearer]', '  enforce_scopes: true', `  tokens: [${JSON.stringify(adminToken)}]`,
    '  smart_clients:', `    - client_id: ${clients.backend.client_id}`, '      scopes: "system/*.read"',
    `      jwks: ${JSON.stringify({ keys: [jwks.keys[0]] })}`, '',
  ].join('\n'));
  const python = path.join(path.dirname(sekmet), 'python');
  const kv = spawnSync(python, ['-c',
    "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT)'); c.execute('INSERT OR REPLACE INTO kv VALUES (?,?)', ('jwt_secret', sys.argv[2])); c.commit()",
    path.join(dir, 'data/sekmet.db'), tokenKey], { stdio: 'inherit' });
  if (kv.status !== 0) throw new Error('could not give the FHIR server its token key');
  start('the FHIR server', sekmet, ['serve', '-c', path.join(dir, 'settings.yaml')], path.join(dir, 'fhir-server.log'));
  await waitFor(`${fhirBase}/metadata`, 'the FHIR server');

  // Seed it.
  const seed = await fetch(fhirBase, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${adminToken}` },
    body: fs.readFileSync(path.join(root, 'sandbox/seed.json')),
  });
  if (!seed.ok) throw new Error(`seeding failed: HTTP ${seed.status} ${(await seed.text()).slice(0, 300)}`);
  const cohort = await fetch(fhirBase, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(cohortBundle()),
  });
  if (!cohort.ok) throw new Error(`seeding the cohort failed: HTTP ${cohort.status} ${(await cohort.text()).slice(0, 300)}`);

  // The SMART authorization server.
  const web = (id, method, extra = {}) => ({
    client_id: id, token_endpoint_auth_method: method, redirect_uris: redirects,
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...extra,
  });
  const config = {
    port: authPort, fhirBase, accessTokenKey: tokenKey, patient, fhirUser: user.fhirUser, user: user.id, userName: user.name,
    interactive,
    clients: [
      web(clients.confidential.client_id, 'client_secret_basic', { client_secret: clients.confidential.client_secret }),
      web(clients.public.client_id, 'none'),
      web(clients.native.client_id, 'none', { application_type: 'native', redirect_uris: ['http://127.0.0.1/callback'] }),
      { client_id: clients.backend.client_id, token_endpoint_auth_method: 'private_key_jwt', jwks,
        grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
    ],
  };
  fs.writeFileSync(path.join(dir, 'auth-server.json'), JSON.stringify(config, null, 2));
  const auth = start('the SMART server', process.execPath, [harness, path.join(dir, 'auth-server.json')], path.join(dir, 'auth-server.log'));
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the SMART server did not start within 30 s')), 30000);
    auth.stdout.on('data', (d) => {
      if (String(d).includes('READY')) {
        clearTimeout(t);
        resolve();
      }
    });
  });

  const info = {
    fhirBase,
    smartConfiguration: `${issuer}/.well-known/smart-configuration`,
    issuer,
    redirectUris: redirects,
    clients: {
      confidential: clients.confidential,
      public: clients.public,
      native: { ...clients.native, redirectUri: 'http://127.0.0.1:ANY-PORT/callback' },
      backend: { ...clients.backend, rs384Key: path.join(dir, 'keys/rs384.pem'), kid: fs.readFileSync(path.join(dir, 'keys/rs384.kid'), 'utf8') },
    },
    patient,
    user,
    authorization: interactive ? 'interactive (a consent page in the browser)' : 'headless (approved at once)',
  };
  fs.writeFileSync(path.join(dir, 'sandbox.json'), JSON.stringify(info, null, 2));
  console.log(`fhirstorm sandbox
  FHIR R4 server      ${fhirBase}   (sekmet-fhir; SMART tokens required)
  SMART server        ${issuer}      (oidc-provider; ${info.authorization})
  SMART configuration ${info.smartConfiguration}
  confidential client ${clients.confidential.client_id} / secret ${clients.confidential.client_secret}
  public client       ${clients.public.client_id}
  native client       ${clients.native.client_id} (public; redirect http://127.0.0.1:<any port>/callback)
  backend client      ${clients.backend.client_id} (private_key_jwt RS384, key ${info.clients.backend.rs384Key})
  redirect URIs       ${redirects.join(', ')}
  test user           ${user.name} (${user.fhirUser}); patient in context: Patient/${patient}
  details             ${path.join(dir, 'sandbox.json')}
Ctrl-C stops it.
SANDBOX READY`);
}

main().catch((e) => fail(e.message));

// A cohort for bulk export (examples/bulk_export.rs): 60 synthetic patients, each with four
// vital-sign observations, a condition and an encounter (360 resources), and the Group
// `sandbox-cohort` of them; fixed ids, so that every sandbox holds the same data.
function cohortBundle() {
  const entry = [];
  const put = (resource) => entry.push({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } });
  const families = ['Okafor', 'Lindqvist', 'Tanaka', 'Moreau', 'Haddad', 'Novak'];
  const vitals = [
    ['8867-4', 'Heart rate', '/min', 'beats/minute', (i) => 58 + (i % 30)],
    ['8310-5', 'Body temperature', 'Cel', 'C', (i) => 36.1 + (i % 12) / 10],
    ['29463-7', 'Body weight', 'kg', 'kg', (i) => 52 + (i % 40)],
    ['8302-2', 'Body height', 'cm', 'cm', (i) => 150 + (i % 35)],
  ];
  const members = [];
  for (let i = 1; i <= 60; i++) {
    const id = `cohort-${i}`;
    const subject = { reference: `Patient/${id}` };
    members.push({ entity: subject });
    put({
      resourceType: 'Patient', id, name: [{ family: families[i % families.length], given: [`Cohort${i}`] }],
      gender: i % 2 ? 'female' : 'male', birthDate: `${1940 + i}-0${1 + (i % 9)}-1${i % 10}`,
    });
    vitals.forEach(([code, display, unit, shown, value], k) => put({
      resourceType: 'Observation', id: `${id}-vital-${k + 1}`, status: 'final',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
      code: { coding: [{ system: 'http://loinc.org', code, display }], text: display }, subject,
      effectiveDateTime: `2026-0${1 + (k % 9)}-1${i % 10}T09:00:00Z`,
      valueQuantity: { value: Number(value(i).toFixed(1)), unit: shown, system: 'http://unitsofmeasure.org', code: unit },
    }));
    put({
      resourceType: 'Condition', id: `${id}-condition`, subject,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] },
    });
    put({
      resourceType: 'Encounter', id: `${id}-encounter`, status: 'finished', subject,
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    });
  }
  put({ resourceType: 'Group', id: 'sandbox-cohort', type: 'person', actual: true, name: 'Sandbox cohort', member: members });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}
