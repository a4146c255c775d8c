import { jwtClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

// Same origin as the page: no baseURL needed, and cookies stay first-party.
export const authClient = createAuthClient({
  plugins: [jwtClient()],
});
