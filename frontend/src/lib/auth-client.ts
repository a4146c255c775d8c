import { jwtClient, twoFactorClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

/** Where a sign-in that needs a second factor continues (app/login/two-factor). */
export const TWO_FACTOR_PAGE = "/login/two-factor";

// Same origin as the page: no baseURL needed, and cookies stay first-party.
export const authClient = createAuthClient({
  // twoFactorClient: when a password sign-in answers `twoFactorRedirect`, the browser goes to
  // TWO_FACTOR_PAGE (the plugin's own redirect); AuthForm then does not go on to /tasks.
  plugins: [jwtClient(), twoFactorClient({ twoFactorPage: TWO_FACTOR_PAGE })],
});
