// The official MCP TypeScript SDK's client (@modelcontextprotocol/sdk), driven by tests/e2e/test_mcp_client_ids.py:
// from the MCP server's URL alone to tool calls, through the SDK's own OAuth (its auth() and
// StreamableHTTPClientTransport). The browser step is the test's: this prints the authorization URL as a JSON
// line and reads the redirect's query back as one.
//
//   node mcp_client.mjs <sdk dir> <mcp url> <redirect url> [client metadata url]
//
// Every line on stdout is one JSON object: {"authorize": url}, then {"result": {...}} or {"error": "..."}.
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const [sdkDir, mcpUrl, redirectUrl, clientMetadataUrl] = process.argv.slice(2);
const load = (path) => import(pathToFileURL(`${sdkDir}/dist/esm/${path}`).href);
const { Client } = await load("client/index.js");
const { StreamableHTTPClientTransport } = await load("client/streamableHttp.js");
const { UnauthorizedError } = await load("client/auth.js");

const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

// An OAuthClientProvider in memory: nothing is known before the first request.
class MemoryProvider {
  constructor() {
    this.saved = {};
    this.authorizationUrls = [];
    if (clientMetadataUrl) this.clientMetadataUrl = clientMetadataUrl;
  }
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return {
      client_name: "Node agent", redirect_uris: [redirectUrl], grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"], token_endpoint_auth_method: "none", application_type: "native",
    };
  }
  clientInformation() { return this.saved.client; }
  saveClientInformation(client) { this.saved.client = client; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; }
  saveCodeVerifier(verifier) { this.saved.verifier = verifier; }
  codeVerifier() { return this.saved.verifier; }
  redirectToAuthorization(url) { this.authorizationUrls.push(url.href); say({ authorize: url.href }); }
}

async function connected(provider) {
  const client = new Client({ name: "node-agent", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return client;
}

const provider = new MemoryProvider();
try {
  let client;
  try {
    client = await connected(provider);
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
    const answer = JSON.parse((await lines.next()).value);  // the redirect's query, from the test
    if (answer.error) throw new Error(`authorization refused: ${answer.error}`);
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
    await transport.finishAuth(answer.code);
    client = await connected(provider);
  }
  const tools = await client.listTools();
  const orders = await client.callTool({ name: "list_orders", arguments: {} });
  const who = await client.callTool({ name: "whoami", arguments: {} });
  say({ result: {
    server: client.getServerVersion()?.name, tools: tools.tools.map((tool) => tool.name).sort(),
    orders: orders.structuredContent, ordersError: orders.isError ?? false, who: who.structuredContent,
    clientId: provider.saved.client?.client_id, authorizationUrls: provider.authorizationUrls,
  } });
  await client.close();
  process.exit(0);
} catch (error) {
  say({ error: String(error?.stack ?? error) });
  process.exit(1);
}
