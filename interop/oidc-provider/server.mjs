#!/usr/bin/env node
// Interop peer for ferroauth: panva/node-oidc-provider (npm `oidc-provider`)
// served on 127.0.0.1 with an in-memory adapter.
//
// Usage:
//   node interop/oidc-provider/server.mjs --clients FILE.json [--port N]
//        [--access-token-ttl SECONDS] [--id-token-ttl SECONDS]
//        [--refresh-token-ttl SECONDS] [--require-par] [--resource-server URL]...
//        [--dpop-nonce] [--device-code-ttl SECONDS] [--require-request-objects]
//
// Contract with the caller (the Rust tests and selfcheck.py):
//   * stdout carries exactly one line, `READY http://127.0.0.1:<port>`, printed
//     once the server accepts requests. The URL is also the issuer.
//   * everything else (provider notices, request log, errors) goes to stderr.
//   * bad arguments or a bad clients file: a message on stderr, exit code 2.
//   * SIGTERM / SIGINT: the listener is closed and the process exits with 0.
//
// The clients file is a JSON array of oidc-provider client metadata objects,
// handed to the provider unchanged (client_id, client_secret, redirect_uris,
// token_endpoint_auth_method, id_token_signed_response_alg, grant_types,
// response_types, application_type, post_logout_redirect_uris, jwks, ...).
//
// Signing keys (RSA-2048, P-256, Ed25519) and cookie keys are generated at
// every start: never cache a JWKS across restarts.

import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

// oidc-provider prints notices with console.info, which would land on stdout
// and break the one-line contract. Route every console method to stderr
// before the library is loaded.
const toStderr = (...args) => console.error(...args);
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;

// Registered first so a signal during start-up also ends the process cleanly.
let server;
function shutdown(signal) {
  process.stderr.write(`[oidc-provider] ${signal}: shutting down\n`);
  if (!server?.listening) process.exit(0);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

function die(message) {
  process.stderr.write(`oidc-provider launcher: ${message}\n`);
  process.exit(2);
}

function parsePositiveInt(name, value) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) die(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number.parseInt(value, 10);
}

let args;
try {
  args = parseArgs({
    options: {
      clients: { type: 'string' },
      port: { type: 'string', default: '0' },
      'access-token-ttl': { type: 'string' },
      'id-token-ttl': { type: 'string' },
      'refresh-token-ttl': { type: 'string' },
      'require-par': { type: 'boolean', default: false },
      'resource-server': { type: 'string', multiple: true, default: [] },
      'dpop-nonce': { type: 'boolean', default: false },
      'device-code-ttl': { type: 'string' },
      'require-request-objects': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (err) {
  die(`${err.message}\nusage: node server.mjs --clients FILE.json [--port N] [--access-token-ttl S] [--id-token-ttl S] [--refresh-token-ttl S] [--require-par] [--resource-server URL]... [--dpop-nonce] [--device-code-ttl S] [--require-request-objects]`);
}

if (args.help) {
  process.stderr.write('usage: node server.mjs --clients FILE.json [--port N] [--access-token-ttl S] [--id-token-ttl S] [--refresh-token-ttl S] [--require-par] [--resource-server URL]... [--dpop-nonce] [--device-code-ttl S] [--require-request-objects]\n');
  process.exit(0);
}
if (!args.clients) die('--clients FILE.json is required');

const port = parsePositiveInt('port', args.port);
if (port > 65535) die(`--port out of range: ${port}`);
const accessTokenTtl = parsePositiveInt('access-token-ttl', args['access-token-ttl']) ?? 3600;
const idTokenTtl = parsePositiveInt('id-token-ttl', args['id-token-ttl']) ?? 3600;
const refreshTokenTtl = parsePositiveInt('refresh-token-ttl', args['refresh-token-ttl']) ?? 86400;
const deviceCodeTtl = parsePositiveInt('device-code-ttl', args['device-code-ttl']) ?? 600;

let clients;
try {
  clients = JSON.parse(readFileSync(args.clients, 'utf8'));
} catch (err) {
  die(`cannot read clients file ${args.clients}: ${err.message}`);
}
if (!Array.isArray(clients)) die(`clients file ${args.clients} must hold a JSON array of client metadata objects`);
for (const [i, c] of clients.entries()) {
  if (c === null || typeof c !== 'object' || Array.isArray(c) || typeof c.client_id !== 'string') {
    die(`clients file entry ${i} must be an object with a string client_id`);
  }
}

const { default: Provider, errors } = await import('oidc-provider');

// The key comes out of the generator as PEM and is exported as a JWK from a key object of
// its own. Exporting the generator's own key object deadlocked Node 20 now and then (about
// one start in twelve here): a garbage collection during the JWK export destroyed the
// generation job, whose destructor waits for the lock the export holds.
function signingKey(type, options, kid) {
  const { privateKey } = generateKeyPairSync(type, {
    ...options,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { ...createPrivateKey(privateKey).export({ format: 'jwk' }), kid, use: 'sig' };
}

const tag = randomBytes(4).toString('hex');
const jwks = {
  keys: [
    // No `alg` on the RSA key: it serves both RS256 and PS256.
    signingKey('rsa', { modulusLength: 2048 }, `rsa-${tag}`),
    signingKey('ec', { namedCurve: 'P-256' }, `p256-${tag}`),
    signingKey('ed25519', {}, `ed25519-${tag}`),
  ],
};

// Any account id is a valid user; its claims are derived from the id.
function claimsFor(id) {
  const given = id.length ? id[0].toUpperCase() + id.slice(1) : id;
  return {
    sub: id,
    email: `${id}@example.test`,
    email_verified: true,
    name: `${given} Example`,
    given_name: given,
    family_name: 'Example',
    preferred_username: id,
  };
}

async function findAccount(ctx, id) {
  return {
    accountId: id,
    async claims() {
      return claimsFor(id);
    },
  };
}

// Listen first so the issuer can carry the real port (also when --port 0).
server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => {
    server.off('error', reject);
    resolve();
  });
}).catch((err) => die(`cannot listen on 127.0.0.1:${port}: ${err.message}`));

const issuer = `http://127.0.0.1:${server.address().port}`;

let provider;
try {
  provider = new Provider(issuer, {
    clients,
    jwks,
    findAccount,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'api:read'],
    cookies: { keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      // OpenID Connect Back-Channel Logout 1.0: a client with `backchannel_logout_uri` in
      // its metadata is sent a logout token when the user's session here ends
      // (`backchannel_logout_session_required` adds `sid` to its ID and logout tokens).
      backchannelLogout: { enabled: true },
      claimsParameter: { enabled: true },
      // RFC 9126. On by default in oidc-provider; --require-par makes every client push
      // (the metadata then says require_pushed_authorization_requests). A client can
      // also require it alone with `require_pushed_authorization_requests` in its metadata.
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: args['require-par'] },
      // RFC 9449. A client with `dpop_bound_access_tokens` in its metadata must use DPoP;
      // --dpop-nonce makes every DPoP proof carry a server nonce (use_dpop_nonce first).
      dPoP: {
        enabled: true,
        nonceSecret: args['dpop-nonce'] ? randomBytes(32) : undefined,
        requireNonce: () => args['dpop-nonce'],
      },
      // RFC 9101. A client with `require_signed_request_object` in its metadata must send
      // its authorization requests as JWTs signed with a key of its `jwks`;
      // --require-request-objects asks it of every client, in the server's metadata.
      requestObjects: { enabled: true, requireSignedRequestObject: args['require-request-objects'] },
      // RFC 8628, for clients whose grant_types list the device code grant. The
      // verification page is oidc-provider's own (/device), then its login and consent.
      deviceFlow: { enabled: true },
      // RFC 8707. Each --resource-server URL is a resource a client may name; its access
      // tokens are JWTs with that URL as `aud` and the scope `api:read`. Any other
      // resource is refused with invalid_target. The token request must name the resource
      // again (useGrantedResource off), as RFC 8707 §2.2 has clients do.
      resourceIndicators: {
        enabled: true,
        useGrantedResource: () => false,
        getResourceServerInfo(ctx, resource) {
          if (!args['resource-server'].includes(resource)) {
            throw new errors.InvalidTarget();
          }
          return { scope: 'api:read', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    // oidc-provider refuses outgoing requests to special-use addresses (its SSRF guard,
    // right for production). The relying parties of these tests listen on 127.0.0.1, so
    // requests to a loopback URL (back-channel logout tokens) go without the guard;
    // every other URL keeps it.
    fetch: (url, options) => {
      const host = new URL(url).hostname;
      if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') {
        delete options.dispatcher;
      }
      return globalThis.fetch(url, options);
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'],
      clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256'],
    },
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: accessTokenTtl,
      ClientCredentials: accessTokenTtl,
      IdToken: idTokenTtl,
      RefreshToken: refreshTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: deviceCodeTtl,
      Interaction: 3600,
      Session: 86400,
      Grant: 86400,
    },
  });
} catch (err) {
  server.close();
  die(`provider configuration rejected: ${err.message}`);
}

// Static clients are only validated when first used: look each one up now so
// a bad clients file fails at start instead of in the middle of a test.
for (const { client_id: id } of clients) {
  try {
    const client = await provider.Client.find(id);
    if (!client) throw new Error('not found after registration');
  } catch (err) {
    server.close();
    die(`client ${JSON.stringify(id)} rejected: ${err.message}${err.error_description ? ` (${err.error_description})` : ''}`);
  }
}

for (const event of [
  'server_error', 'authorization.error', 'grant.error', 'userinfo.error',
  'introspection.error', 'revocation.error', 'end_session.error',
  'discovery.error', 'jwks.error', 'interaction.error',
]) {
  provider.on(event, (ctx, err) => {
    process.stderr.write(`[oidc-provider] ${event}: ${err?.error ?? ''} ${err?.error_description ?? err?.message ?? ''}\n`);
  });
}

provider.on('backchannel.success', (ctx, client, accountId, sid) => {
  process.stderr.write(`[oidc-provider] back-channel logout delivered to ${client.clientId} (sub ${accountId}, sid ${sid})\n`);
});
provider.on('backchannel.error', (ctx, err, client) => {
  process.stderr.write(`[oidc-provider] back-channel logout to ${client.clientId} failed: ${err.message}${err.cause ? ` (${err.cause.code ?? ""} ${err.cause.message ?? err.cause})` : ""}\n`);
});

const callback = provider.callback();
server.on('request', (req, res) => {
  const started = Date.now();
  res.on('finish', () => {
    process.stderr.write(`[oidc-provider] ${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - started} ms)\n`);
  });
  callback(req, res);
});

process.stderr.write(`[oidc-provider] issuer ${issuer}, ${clients.length} client(s), kids ${jwks.keys.map((k) => k.kid).join(' ')}\n`);
process.stdout.write(`READY ${issuer}\n`);
