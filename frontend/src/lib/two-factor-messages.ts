/**
 * Better Auth's answers about two-factor codes and passwords (better-auth/plugins/two-factor
 * TWO_FACTOR_ERROR_CODES, BASE_ERROR_CODES), said as a person needs to hear them: what went
 * wrong and what to do next. `error` is the client's `{status, code?, message?}`.
 */
export function twoFactorMessage(error: { status: number; code?: string; message?: string }): string {
  if (error.status === 429) return "Too many attempts. Wait a few seconds and try again.";
  if (error.status === 0) return "Cannot reach the server. Check your connection.";
  switch (error.code) {
    case "INVALID_CODE":
      return "That code is not right. Type the 6 digits your authenticator app shows now.";
    // This app's own (src/lib/totp-once.ts, RFC 6238 §5.2): a right code that has signed in or
    // confirmed something already. Not a typo: the next code will do.
    case "TOTP_CODE_ALREADY_USED":
      return "That code has just been used. Wait for the next one your app shows.";
    case "INVALID_BACKUP_CODE":
      return "That backup code is not right, or it has been used already.";
    // This app's own (src/lib/second-factor-guard.ts): turning off or new backup codes without
    // a current code, or with a wrong one. Its messages are already in words and say which kind
    // of code (app or backup) was wrong; these are for an answer without one.
    case "TWO_FACTOR_CODE_REQUIRED":
      return error.message || "Type the 6-digit code your authenticator app shows now as well as your password.";
    case "INVALID_TWO_FACTOR_CODE":
      return error.message || "That code is not right. Type the 6 digits your authenticator app shows now.";
    case "INVALID_PASSWORD":
      return "That password is not right.";
    case "INVALID_TWO_FACTOR_COOKIE":
      return "This sign-in has expired. Sign in again with your e-mail and password.";
    case "TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE":
      return "Too many wrong codes for this sign-in. Sign in again with your e-mail and password.";
    case "ACCOUNT_TEMPORARILY_LOCKED":
      return "Too many wrong codes: two-factor sign-in is locked for 15 minutes. Try again later.";
    default:
      return error.message || "Something went wrong. Try again.";
  }
}
