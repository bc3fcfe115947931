// The reference JOSE client (`jose`, npm) verifies tokens of the built-in identity against its
// published JWKS, the way a product or API gateway would. Run by tests/e2e/identity_e2etest.cpp.
//
//   node jose_verify.mjs <jwks_url> <issuer> <token> <tampered_token>
// Prints the verified claims as JSON; exits 1 if the token fails or the tampered one passes.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, issuer, token, tampered] = process.argv.slice(2);
const jwks = createRemoteJWKSet(new URL(jwksUrl));
const options = { issuer, audience: 'breakpilot', algorithms: ['ES256', 'RS256'] };

const { payload, protectedHeader } = await jwtVerify(token, jwks, options);
if (protectedHeader.alg !== 'ES256' || !protectedHeader.kid) {
  console.error(`unexpected header ${JSON.stringify(protectedHeader)}`);
  process.exit(1);
}
try {
  await jwtVerify(tampered, jwks, options);
  console.error('jose accepted a tampered token');
  process.exit(1);
} catch (e) {
  if (e.code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
    console.error(`tampered token failed for another reason: ${e.code}`);
    process.exit(1);
  }
}
console.log(JSON.stringify(payload));
