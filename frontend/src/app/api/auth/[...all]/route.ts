import { auth } from "@/lib/auth";
import { authRoute } from "@/lib/auth-route";

// Every method reaches Better Auth (which answers 404 or 405 itself), through the same limits.
const handler = authRoute((request) => auth.handler(request));

export { handler as DELETE, handler as GET, handler as PATCH, handler as POST, handler as PUT };
