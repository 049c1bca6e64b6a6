// oauth4webapi (npm; a certified FAPI 2.0 relying party library) running the FAPI 2.0 Security Profile's flow
// against the server, driven by tests/e2e/test_fapi.py: private_key_jwt at every endpoint, a pushed authorization
// request (RFC 9126) with PKCE, the browser step (the test's), a DPoP-bound code exchange and refresh (RFC 9449),
// a DPoP call to the demo API through the guard and to userinfo, then the calls a thief or a confused client would
// make at each.
//
//   node fapi_client.mjs <oauth4webapi dir> <issuer> <redirect uri> <api url> <other api url>
//
// Every line on stdout is one JSON object. This prints {"jwk": <the client's public key>} and reads back
// {"client_id": ...}; prints {"authorize": url} and reads back {"callback": <the URL the browser landed on>}; ends
// with {"result": {...}} or {"error": "..."}.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const [libDir, issuer, redirectUri, apiUrl, otherApiUrl] = process.argv.slice(2);
const oauth = await import(pathToFileURL(`${libDir}/build/index.js`).href);

const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const hear = async () => JSON.parse((await lines.next()).value);
// The server runs on http://127.0.0.1 in the tests; everything else oauth4webapi checks as it always does.
const insecure = { [oauth.allowInsecureRequests]: true };

// A client's DPoP request, with one retry when the server asks for its nonce (RFC 9449 8).
async function withNonce(request) {
  try {
    return await request();
  } catch (error) {
    if (oauth.isDPoPNonceError(error)) return request();
    throw error;
  }
}

// What a 401 from a resource said: its status and each challenge's scheme and error.
async function refusal(request) {
  try {
    const response = await request();
    return { status: response.status };
  } catch (error) {
    if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
    return {
      status: error.response.status,
      challenges: error.cause.map((c) => ({ scheme: c.scheme, error: c.parameters.error ?? null })),
    };
  }
}

// The proof oauth4webapi would send with a request, captured without sending it.
async function capturedProof(dpop, accessToken, method, url) {
  let proof;
  const capture = async (_url, init) => {
    proof = init.headers.dpop;
    return new Response("{}", { status: 200, headers: { "content-type": "application/json" } });
  };
  await oauth.protectedResourceRequest(accessToken, method, new URL(url), undefined, undefined,
    { DPoP: dpop, ...insecure, [oauth.customFetch]: capture });
  return proof;
}

async function send(method, url, accessToken, proof, scheme = "DPoP") {
  const headers = { authorization: `${scheme} ${accessToken}` };
  if (proof) headers.dpop = proof;
  const response = await fetch(url, { method, headers, redirect: "manual" });
  return { status: response.status, challenge: response.headers.get("www-authenticate") };
}

try {
  // The client's key pair (private_key_jwt): the test registers the public half.
  const clientKeys = await oauth.generateKeyPair("ES256", { extractable: true });
  const jwk = await crypto.subtle.exportKey("jwk", clientKeys.publicKey);
  say({ jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: "fapi-client-1", use: "sig", alg: "ES256" } });
  const { client_id: clientId } = await hear();

  const as = await oauth.processDiscoveryResponse(new URL(issuer),
    await oauth.discoveryRequest(new URL(issuer), { algorithm: "oauth2", ...insecure }));
  const client = { client_id: clientId };
  const clientAuth = oauth.PrivateKeyJwt({ key: clientKeys.privateKey, kid: "fapi-client-1" });
  const dpopKeys = await oauth.generateKeyPair("ES256");
  const dpop = oauth.DPoP(client, dpopKeys);

  // PAR with PKCE, the request bound to the DPoP key by the proof sent with it (RFC 9449 10.1).
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const parameters = {
    response_type: "code", redirect_uri: redirectUri, scope: "openid offline_access orders:read", state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256",
  };
  const pushed = await withNonce(async () => oauth.processPushedAuthorizationResponse(as, client,
    await oauth.pushedAuthorizationRequest(as, client, clientAuth, parameters, { DPoP: dpop, ...insecure })));
  const authorizationUrl = new URL(as.authorization_endpoint);
  authorizationUrl.searchParams.set("client_id", clientId);
  authorizationUrl.searchParams.set("request_uri", pushed.request_uri);
  say({ authorize: authorizationUrl.href });
  const { callback } = await hear();
  const callbackParameters = oauth.validateAuthResponse(as, client, new URL(callback), state);

  const tokens = await withNonce(async () => oauth.processAuthorizationCodeResponse(as, client,
    await oauth.authorizationCodeGrantRequest(as, client, clientAuth, callbackParameters, redirectUri, verifier,
      { DPoP: dpop, ...insecure })));
  const refreshed = await withNonce(async () => oauth.processRefreshTokenResponse(as, client,
    await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, { DPoP: dpop, ...insecure })));
  const accessToken = refreshed.access_token;

  const call = await oauth.protectedResourceRequest(accessToken, "GET", new URL(apiUrl), undefined, undefined,
    { DPoP: dpop, ...insecure });
  const orders = await call.json();

  // What the server must refuse, at a resource behind the guard (the demo API, API Gateway's REST authorizer) and
  // at one that guards itself (userinfo: RFC 9449 7.1's own errors).
  async function misuses(url, otherUrl) {
    const replayedProof = await capturedProof(dpop, accessToken, "GET", url);
    const firstUse = await send("GET", url, accessToken, replayedProof);
    return {
      firstUse,
      asBearer: await send("GET", url, accessToken, null, "Bearer"),
      replayed: await send("GET", url, accessToken, replayedProof),
      // A proof made for another URL, sent here.
      anotherUrl: await send("GET", url, accessToken, await capturedProof(dpop, accessToken, "GET", otherUrl)),
      anotherMethod: await send("POST", url, accessToken, await capturedProof(dpop, accessToken, "GET", url)),
      anotherKey: await refusal(() => oauth.protectedResourceRequest(accessToken, "GET", new URL(url), undefined,
        undefined, { DPoP: oauth.DPoP(client, { ...clientKeys }), ...insecure })),
      // The token's own key, but the proof an hour old (RFC 9449 4.3 point 11).
      stale: await refusal(() => oauth.protectedResourceRequest(accessToken, "GET", new URL(url), undefined,
        undefined, { DPoP: oauth.DPoP(client, dpopKeys, {
          [oauth.modifyAssertion]: (_header, payload) => { payload.iat -= 3600; },
        }), ...insecure })),
    };
  }
  const refusals = await misuses(apiUrl, otherApiUrl);
  const userinfo = await oauth.userInfoRequest(as, client, accessToken, { DPoP: dpop, ...insecure });
  const claims = await userinfo.json();
  const userinfoRefusals = await misuses(as.userinfo_endpoint, apiUrl);

  say({
    result: {
      parExpiresIn: pushed.expires_in,
      tokenType: tokens.token_type, refreshedTokenType: refreshed.token_type,
      scope: refreshed.scope, hasRefresh: Boolean(tokens.refresh_token),
      accessToken, callStatus: call.status, orders, refusals,
      userinfoStatus: userinfo.status, userinfoSub: claims.sub, userinfoRefusals,
    },
  });
} catch (error) {
  say({ error: `${error?.name}: ${error?.message} ${error?.cause ? JSON.stringify(error.cause) : ""}` });
}
process.exit(0);
