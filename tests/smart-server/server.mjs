// A SMART App Launch authorization server for fhirstorm's tests and sandbox: npm `oidc-provider`
// (pinned in package-lock.json) configured the SMART way, on 127.0.0.1.
//
//   node server.mjs CONFIG.json      serve; prints one line `READY <issuer>` when listening
//   node server.mjs --keys DIR       write client key pairs (RS384, ES384) for the tests into DIR
//
// CONFIG.json: { port, fhirBase, accessTokenKey (HS256 secret the FHIR server verifies access
// tokens with), accessTokenTtl (s), clients: [oidc-provider client metadata], patient, encounter,
// fhirUser, interactive (show a consent page instead of approving at once),
// clientAccessTokenTtl: { client_id: seconds } (short-lived tokens for some clients),
// tamperRefreshedIdToken: [client_id] (a server bug staged for tests: the id_token of those
// clients' refresh responses gets a broken signature; counted as `tampered_id_token` in stats) }
//
// What makes it SMART: `aud` must be the FHIR base; PKCE S256 is required of every client;
// access tokens are JWTs for the FHIR server (resource indicators) carrying `patient` and
// `fhirUser`; the token response carries `patient`, `encounter`, `need_patient_banner` and
// `smart_style_url`; `.well-known/smart-configuration` is served beside OpenID discovery; an EHR
// launch context is made with `POST /admin/launch`. `GET /admin/stats` counts token requests per
// grant type (the tests use it to check single-flight refresh).
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import Provider, { errors } from 'oidc-provider';

if (process.argv[2] === '--keys') {
  const dir = process.argv[3];
  fs.mkdirSync(dir, { recursive: true });
  const jwks = [];
  for (const [name, alg, opts] of [
    ['rs384', 'RS384', ['rsa', { modulusLength: 2048 }]],
    ['es384', 'ES384', ['ec', { namedCurve: 'P-384' }]],
  ]) {
    const { publicKey, privateKey } = crypto.generateKeyPairSync(...opts);
    const kid = `${name}-${crypto.randomBytes(6).toString('hex')}`;
    fs.writeFileSync(path.join(dir, `${name}.pem`), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(path.join(dir, `${name}.kid`), kid);
    jwks.push({ ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' });
  }
  fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: jwks }, null, 2));
  process.exit(0);
}

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const port = config.port;
const issuer = `http://127.0.0.1:${port}`;
const fhirBase = config.fhirBase.replace(/\/$/, '');

// SMART scopes: the OpenID/launch ones are the provider's scopes; the resource ones belong to
// the FHIR server (the resource indicator), v1 and v2 forms.
const OIDC_SCOPES = ['openid', 'fhirUser', 'profile', 'offline_access', 'online_access', 'launch', 'launch/patient', 'launch/encounter'];
const RESOURCE_SCOPES = [];
for (const ctx of ['patient', 'user', 'system']) {
  for (const type of ['*', 'Patient', 'Observation', 'MedicationRequest', 'Condition', 'AllergyIntolerance', 'Encounter']) {
    for (const perm of ['read', 'write', '*', 'rs', 'cruds', 'r', 's']) RESOURCE_SCOPES.push(`${ctx}/${type}.${perm}`);
  }
}

const accounts = new Map([[config.user ?? 'clinician', { fhirUser: config.fhirUser ?? null, name: config.userName ?? 'Test Clinician' }]]);
const launches = new Map(); // launch id -> { patient, encounter }
const contexts = new Map(); // grant id -> { patient, encounter }
const stats = {};

const signingKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: config.clients ?? [],
  jwks: { keys: [{ ...signingKey, kid: 'fhirstorm-test-rs256', use: 'sig', alg: 'RS256' }] },
  scopes: OIDC_SCOPES,
  claims: { openid: ['sub'], fhirUser: ['fhirUser'], profile: ['name'] },
  extraParams: {
    aud(ctx, value) {
      if (value === undefined) return;
      if (value.replace(/\/$/, '') !== fhirBase) throw new errors.InvalidRequest(`aud must be the FHIR base URL ${fhirBase}`);
    },
    launch(ctx, value) {
      if (value !== undefined && !launches.has(value)) throw new errors.InvalidRequest('unknown launch context');
    },
  },
  pkce: { required: () => true },
  clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
  enabledJWA: {
    clientAuthSigningAlgValues: ['RS384', 'ES384', 'RS256', 'ES256'],
  },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    revocation: { enabled: true },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => fhirBase,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator, client) => {
        if (indicator.replace(/\/$/, '') !== fhirBase) throw new errors.InvalidTarget();
        return {
          scope: RESOURCE_SCOPES.join(' '),
          audience: fhirBase,
          accessTokenTTL: config.clientAccessTokenTtl?.[client?.clientId] ?? config.accessTokenTtl ?? 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'HS256', key: Buffer.from(config.accessTokenKey) } },
        };
      },
    },
  },
  extraTokenClaims: (ctx, token) => {
    const context = contexts.get(token.grantId);
    const account = accounts.get(token.accountId);
    return { ...(context?.patient ? { patient: context.patient } : {}), ...(account?.fhirUser ? { fhirUser: account.fhirUser } : {}) };
  },
  findAccount: (ctx, id) => {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      claims: () => ({ sub: id, ...(account.fhirUser ? { fhirUser: account.fhirUser } : {}), name: account.name }),
    };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtl ?? 300, AuthorizationCode: 60, IdToken: 300, RefreshToken: 86400, Grant: 86400, Interaction: 300, Session: 3600 },
  rotateRefreshToken: true,
  issueRefreshToken: (ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
});
provider.proxy = false;

provider.use(async (ctx, next) => {
  // offline_access (a refresh token) needs prompt=consent in OpenID Connect; SMART apps do not send it.
  // An EHR launch is consented to each time too, so that each launch's context reaches its grant.
  const offline = typeof ctx.query.scope === 'string' && ctx.query.scope.split(' ').includes('offline_access');
  if (ctx.path === '/auth' && (offline || ctx.query.launch) && !ctx.query.prompt) {
    ctx.query = { ...ctx.query, prompt: 'consent' };
  }
  const grantType = ctx.path === '/token' && ctx.method === 'POST' ? 'pending' : null;
  await next();
  if (grantType) {
    const type = ctx.oidc?.params?.grant_type ?? 'unknown';
    const key = `${type}:${ctx.status}`;
    stats[key] = (stats[key] ?? 0) + 1;
    if (ctx.status === 200 && ctx.body?.access_token) {
      const grant = ctx.oidc.entities.Grant;
      // The access token is for the FHIR server (its resource scopes); SMART apps expect the
      // response's scope to list the OpenID and launch scopes granted as well.
      const granted = new Set([...(grant?.getOIDCScope()?.split(' ') ?? []), ...(ctx.body.scope?.split(' ') ?? [])]);
      granted.delete('');
      if (granted.size) ctx.body.scope = [...granted].join(' ');
      const context = grant ? contexts.get(grant.jti) : undefined;
      if (context?.patient) ctx.body.patient = context.patient;
      if (context?.encounter) ctx.body.encounter = context.encounter;
      if (context) {
        ctx.body.need_patient_banner = true;
        ctx.body.smart_style_url = `${issuer}/smart-style.json`;
      }
      const tamper = config.tamperRefreshedIdToken ?? [];
      if (type === 'refresh_token' && ctx.body.id_token && tamper.includes(ctx.oidc.client?.clientId)) {
        const [head, payload, sig] = ctx.body.id_token.split('.');
        ctx.body.id_token = [head, payload, (sig.startsWith('A') ? 'B' : 'A') + sig.slice(1)].join('.');
        stats.tampered_id_token = (stats.tampered_id_token ?? 0) + 1;
      }
    }
  }
});

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function smartConfiguration() {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/reg`,
    introspection_endpoint: `${issuer}/token/introspection`,
    revocation_endpoint: `${issuer}/token/revocation`,
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS384', 'ES384'],
    scopes_supported: [...OIDC_SCOPES, 'patient/*.read', 'patient/*.rs', 'user/*.read', 'user/*.rs'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    capabilities: [
      'launch-ehr', 'launch-standalone', 'client-public', 'client-confidential-symmetric', 'client-confidential-asymmetric',
      'context-ehr-patient', 'context-standalone-patient', 'context-banner', 'context-style',
      'sso-openid-connect', 'permission-offline', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2',
    ],
  };
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

// The sign-in and consent pages of the interactive mode (the sandbox's, and the browser tests').
function htmlPage(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;line-height:1.5}button{margin-right:.5rem}</style>
</head><body>${body}</body></html>\n`);
}

async function interaction(req, res) {
  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    // A sign-in page reached again after it was used (the browser's Back): say so, plainly.
    return htmlPage(res, 400, 'Sign-in expired', '<h1>This sign-in page has expired</h1><p>Go back to the app and start again.</p>');
  }
  const { uid, prompt, params, session } = details;
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  if (config.interactive && req.method === 'GET') {
    // A browser user sees who asks for what, and approves or denies.
    const user = accounts.get(config.user ?? 'clinician');
    const context = params.launch ? launches.get(params.launch) : undefined;
    const body = prompt.name === 'login'
      ? `<h1>Sign in</h1><p>Test user: ${esc(user?.name ?? config.user)} (${esc(user?.fhirUser ?? '')}). No password in the sandbox.</p>
<form method="post" action="/interaction/${esc(uid)}"><button name="decision" value="login">Sign in</button></form>`
      : `<h1>${esc(params.client_id)} asks for access</h1><p>Scopes: ${esc(params.scope)}</p>${context?.patient ? `<p>Patient in context: ${esc(context.patient)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}"><button name="decision" value="allow">Allow</button><button name="decision" value="deny">Deny</button></form>`;
    return htmlPage(res, 200, prompt.name === 'login' ? 'Sign in' : 'Authorize', body);
  }
  if (req.method === 'POST' && new URLSearchParams(await readBody(req)).get('decision') === 'deny') {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user denied the app access.' }, { mergeWithLastSubmission: false });
    return;
  }
  const accountId = session?.accountId ?? config.user ?? 'clinician';
  if (prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: params.client_id });
  const d = prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
  const grantId = await grant.save();
  const scopes = String(params.scope ?? '').split(' ');
  let context = null;
  if (params.launch) context = launches.get(params.launch);
  else if (scopes.includes('launch/patient')) context = { patient: config.patient, encounter: scopes.includes('launch/encounter') ? config.encounter : undefined };
  if (context) contexts.set(grantId, context);
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/.well-known/smart-configuration') return send(res, 200, smartConfiguration());
    if (url.pathname === '/smart-style.json') return send(res, 200, { color_background: '#edeae3', color_highlight: '#69b40f' });
    if (url.pathname === '/admin/stats') return send(res, 200, stats);
    if (url.pathname === '/admin/launch' && req.method === 'POST') {
      const body = JSON.parse((await readBody(req)) || '{}');
      const id = crypto.randomBytes(12).toString('base64url');
      launches.set(id, { patient: body.patient ?? config.patient, encounter: body.encounter ?? config.encounter });
      return send(res, 200, { launch: id });
    }
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res);
    return callback(req, res);
  } catch (err) {
    send(res, 500, { error: 'server_error', error_description: String(err?.message ?? err) });
  }
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`READY ${issuer}\n`);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
