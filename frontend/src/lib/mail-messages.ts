import type { Mail } from "@/lib/mail";

/** The texts of the messages the app sends, in one place. Plain text: every client shows it, and
 * the link stays whole and clickable. */

/** The "Forgot password" message: `url` is Better Auth's one-time link (valid for an hour). */
export function resetPasswordMail(to: string, url: string): Mail {
  return {
    to,
    subject: "Reset your Tasks password",
    text: [
      "Someone, hopefully you, asked to reset the password of the Tasks account for this address.",
      "",
      "To choose a new password, open this link within an hour. It works once:",
      "",
      url,
      "",
      "Every place the account is signed in will be signed out.",
      "If you did not ask for this, ignore this message: your password stays as it is.",
    ].join("\n"),
  };
}

/** Sent on sign-up (and again on request): `url` confirms the address (valid for a day). */
export function verifyEmailMail(to: string, url: string): Mail {
  return {
    to,
    subject: "Confirm your e-mail address for Tasks",
    text: [
      "Someone, hopefully you, created a Tasks account with this address.",
      "",
      "To confirm that the address is yours, open this link within a day:",
      "",
      url,
      "",
      "If you did not create this account, ignore this message: it stays unconfirmed.",
    ].join("\n"),
  };
}

/** Sent to the NEW address when a person asks to change theirs: the change is made only when
 * `url` is opened (valid for a day). */
export function changeEmailMail(to: string, url: string): Mail {
  return {
    to,
    subject: "Confirm your new e-mail address for Tasks",
    text: [
      "Someone, hopefully you, asked to use this address for their Tasks account.",
      "",
      "To make the change, open this link within a day. Until then the account keeps its old address:",
      "",
      url,
      "",
      "If you did not ask for this, ignore this message: nothing changes.",
    ].join("\n"),
  };
}

/** Sent to an address that already has an account when someone signs up with it (only when
 * REQUIRE_EMAIL_VERIFICATION is on, where sign-up answers the same either way): the owner
 * learns why no confirmation came, and a stranger learns nothing. */
export function alreadySignedUpMail(to: string, signInUrl: string, resetUrl: string): Mail {
  return {
    to,
    subject: "You already have a Tasks account",
    text: [
      "Someone, hopefully you, tried to create a Tasks account with this address, which already has one.",
      "",
      `To sign in: ${signInUrl}`,
      `Forgot the password? Choose a new one: ${resetUrl}`,
      "",
      "If it was not you, ignore this message: nothing was changed.",
    ].join("\n"),
  };
}
