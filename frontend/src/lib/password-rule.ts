import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";

import { PASSWORD_MAX_LENGTH } from "@/lib/auth-limits";

/**
 * The password rule beyond length (NIST SP 800-63B §5.1.1.2: compare a new password against
 * commonly used passwords and "context-specific words, such as the name of the service, the
 * username"): zxcvbn's estimate, computed here, with nothing sent anywhere.
 *
 * zxcvbn-ts (https://zxcvbn-ts.github.io/zxcvbn/) matches the password against
 * @zxcvbn-ts/language-common's lists (the most common passwords, diceware words), keyboard
 * patterns, dates, repeats, sequences and the person's own words (`userInputs`), and scores
 * the guesses needed from 0 to 4. A password is accepted at MIN_SCORE, zxcvbn's "safely
 * unguessable" (about 10^8 guesses or more); a few unrelated words pass.
 *
 * Server only: the lists are about a megabyte, which no page needs. The forms say the rule in
 * words (auth-limits.ts PASSWORD_RULE) and show the server's refusal.
 */

/** zxcvbn's score 3: "safely unguessable: moderate protection from offline slow-hash scenario". */
const MIN_SCORE = 3;

// Levenshtein matching (near-misses of listed passwords) is left off: it took 100–700 ms a
// password here, a cost any client could make the server pay; without it a check takes ~1–50 ms.
const zxcvbn = new ZxcvbnFactory({
  dictionary,
  graphs: adjacencyGraphs,
  useLevenshteinDistance: false,
  maxLength: PASSWORD_MAX_LENGTH,
});

/** zxcvbn's warnings (its translation keys), in words. */
const WARNINGS: Record<string, string> = {
  topTen: "it is one of the ten most used passwords",
  topHundred: "it is one of the hundred most used passwords",
  common: "it is a commonly used password",
  similarToCommon: "it is too much like a commonly used password",
  wordByItself: "a single word is easy to guess",
  straightRow: "a straight row of keys is easy to guess",
  keyPattern: "a short keyboard pattern is easy to guess",
  simpleRepeat: "repeated characters such as \"aaa\" are easy to guess",
  extendedRepeat: "repeated patterns such as \"abcabc\" are easy to guess",
  sequences: "sequences such as \"abc\" or \"6543\" are easy to guess",
  recentYears: "recent years are easy to guess",
  dates: "dates are easy to guess",
};

export type Person = { email?: string | null; name?: string | null };

/** The words of `person` that a password must not be made of: the whole address, its part
 * before @, the name and each word of the name. */
function ownWords({ email, name }: Person): string[] {
  const words: string[] = [];
  if (email) words.push(email, email.slice(0, Math.max(0, email.lastIndexOf("@"))));
  if (name) words.push(name, ...name.split(/\s+/));
  return words.map((word) => word.trim().toLowerCase()).filter((word) => word.length >= 3);
}

/**
 * Why `password` is refused, in a sentence for a person, or null when it is accepted. Length is
 * not checked here (Better Auth's own rule, with its own codes, does that).
 */
export function passwordProblem(password: string, person: Person): string | null {
  const own = ownWords(person);
  const lower = password.toLowerCase();
  if (own.some((word) => lower === word || (word.length >= 4 && lower.includes(word)))) {
    return "The password cannot contain your e-mail address or your name. Choose something unrelated to them.";
  }
  const result = zxcvbn.check(password, own);
  if (result.score >= MIN_SCORE) return null;
  if (result.feedback.warning === "userInputs") {
    return "The password is too close to your e-mail address or your name. Choose something unrelated to them.";
  }
  const why = WARNINGS[result.feedback.warning ?? ""];
  return (
    `The password is too easy to guess${why ? `: ${why}` : ""}. ` +
    "Make it longer, for example with a few unrelated words."
  );
}
