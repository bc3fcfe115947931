// A certified OpenID provider (oidc-provider, npm) for the portal sign-in test: one confidential
// client (ours), PKCE required, RP-initiated logout, the development login/consent pages
// (any login name signs in), RS256 ID tokens under a key made at start, refresh tokens for the
// portal's client.
//
//   node oidc_provider.mjs PORT REDIRECT_URIS POST_LOGOUT_URIS CLIENT_SECRET
// (the URIs comma-separated). Prints {"listening":"http://127.0.0.1:PORT"} once it serves.
// For tests: POST /test/disable?account=ID makes that account unknown from then on (as a user
// disabled in Keycloak), so its refresh tokens are refused.
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const [port, redirectUris, postLogoutUris, clientSecret] = process.argv.slice(2);
const disabled = new Set();
const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
const jwk = { ...(await exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'breakpilot-portal',
    client_secret: clientSecret,
    redirect_uris: redirectUris.split(','),
    post_logout_redirect_uris: postLogoutUris.split(','),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }, {
    // A machine client whose JWT access tokens (audience "breakpilot") our API must accept.
    client_id: 'robot',
    client_secret: clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  scopes: ['openid', 'profile', 'email', 'api'],
  async extraTokenClaims() { return { realm_roles: ['SUPPORT_ENGINEER'] }; },
  jwks: { keys: [jwk] },
  pkce: { required: () => true },
  // Keycloak gives a refresh token with every code; so does this provider, without offline_access.
  async issueRefreshToken(ctx, client) { return client.grantTypeAllowed('refresh_token'); },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:breakpilot:api',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        audience: 'breakpilot',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  // Keycloak puts profile and email claims into the ID token; so does this provider here.
  conformIdTokenClaims: false,
  async findAccount(ctx, id) {
    if (disabled.has(id)) return undefined;
    return {
      accountId: id,
      async claims() { return { sub: id, name: `User ${id}`, email: `${id}@example.test` }; },
    };
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/test/disable') {
    disabled.add(ctx.query.account);
    ctx.body = { disabled: ctx.query.account };
    return;
  }
  await next();
});
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: issuer }));
});
