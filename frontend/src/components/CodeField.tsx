import { TextField } from "@/components/ui";
import { TWO_FACTOR_CODE_MAX_LENGTH } from "@/lib/auth-limits";

/**
 * The field for a two-factor code: six digits from an authenticator app (RFC 6238), or, where the
 * caller allows one (`digitsOnly={false}` and a label that says so), a backup code. The browser
 * may offer a code it received (`autocomplete="one-time-code"`, HTML's autofill field names).
 * Whatever is typed here is sent as `typedCode(value)` (src/lib/backup-code.ts): spaces, dashes
 * and case forgiven, in one place for every form that has this field.
 */
export function CodeField({
  label = "Code from your authenticator app",
  digitsOnly = true,
  value,
  onValue,
  autoFocus,
}: {
  label?: string;
  digitsOnly?: boolean;
  value: string;
  onValue: (value: string) => void;
  autoFocus?: boolean;
}) {
  return (
    <TextField
      label={label}
      name="code"
      autoComplete="one-time-code"
      inputMode={digitsOnly ? "numeric" : "text"}
      spellCheck={false}
      required
      autoFocus={autoFocus}
      maxLength={TWO_FACTOR_CODE_MAX_LENGTH}
      value={value}
      onValue={onValue}
    />
  );
}
