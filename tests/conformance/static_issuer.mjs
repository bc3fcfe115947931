// A stand-in OpenID issuer that serves a fixed JWKS (for tests of broken key sets: bad curves,
// points off the curve). Not a provider: discovery and keys only.
//
//   node static_issuer.mjs PORT JWKS_JSON
import http from 'node:http';

const [port, jwks] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
http.createServer((req, res) => {
  const body = req.url === '/.well-known/openid-configuration'
    ? JSON.stringify({
      issuer,
      jwks_uri: `${issuer}/jwks`,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
    })
    : req.url === '/jwks' ? jwks : null;
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
  res.end(body ?? '{}');
}).listen(Number(port), '127.0.0.1', () => console.log(JSON.stringify({ listening: issuer })));
