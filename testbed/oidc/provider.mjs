// A real OpenID Connect provider for taskchat's sign-in tests: panva's oidc-provider (the
// certified Node implementation) on 127.0.0.1, with its built-in login form, where any
// login name and password sign in as that name. Consent is granted at once, as an
// operator's provider does for its own first-party app.
//
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI. Prints "ready <issuer>" once
// it listens.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import Provider from "oidc-provider";

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const signingKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey
  .export({ format: "jwk" });

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ["authorization_code"],
    response_types: ["code"],
  }],
  jwks: { keys: [{ ...signingKey, kid: "test-signing-key", use: "sig", alg: "RS256" }] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  claims: { openid: ["sub"], profile: ["name"], email: ["email"] },
  async findAccount(_ctx, id) {
    return { accountId: id, claims: async () => ({ sub: id, name: id, email: `${id}@example.test` }) };
  },
  // First-party app: a grant for everything it asks, so no consent screen.
  async loadExistingGrant(ctx) {
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
});

provider.listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));
