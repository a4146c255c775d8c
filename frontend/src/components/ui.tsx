import { type InputHTMLAttributes, type ReactNode, type Ref, type TextareaHTMLAttributes, useId } from "react";

import { characters } from "@/lib/limits";

export const inputClass =
  "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-base shadow-sm focus:border-indigo-500";

const NOTICE = {
  error: { role: "alert", className: "bg-red-50 text-red-800 ring-red-200" },
  info: { role: "status", className: "bg-amber-50 text-amber-900 ring-amber-200" },
} as const;

/** A message box: errors are announced at once (role=alert), information politely. */
export function Notice({
  kind,
  children,
  className = "mb-4",
}: {
  kind: keyof typeof NOTICE;
  children: ReactNode;
  className?: string;
}) {
  const { role, className: colours } = NOTICE[kind];
  return (
    <div role={role} className={`${className} rounded-md px-4 py-3 ring-1 ${colours}`}>
      {children}
    </div>
  );
}

type Common = {
  label: string;
  onValue: (value: string) => void;
  small?: boolean;
  hint?: ReactNode;
  ref?: Ref<HTMLInputElement>;
  /** The most characters the API takes here: a counter shows how many are used, in the API's
   * count (`characters`), and says by how many a text is over. */
  limit?: number;
  /** The API trims this field before counting (a title). */
  trimmed?: boolean;
};

/** A labelled text input (or textarea, with `rows`): the label names it for screen readers. */
export function TextField({
  label,
  onValue,
  small = false,
  hint,
  rows,
  ref,
  limit,
  trimmed = false,
  ...props
}: Common &
  Omit<InputHTMLAttributes<HTMLInputElement>, "onChange"> &
  Pick<TextareaHTMLAttributes<HTMLTextAreaElement>, "rows">) {
  const labelClass = small ? "text-sm font-medium" : "font-medium";
  const counterId = useId();
  const used = limit === undefined ? 0 : characters(String(props.value ?? ""), trimmed);
  const over = limit !== undefined && used > limit;
  const described = [props["aria-describedby"], limit === undefined ? undefined : counterId]
    .filter(Boolean)
    .join(" ");
  const common = {
    className: inputClass,
    name: props.name,
    value: props.value,
    "aria-describedby": described || undefined,
    "aria-invalid": over || undefined,
  };
  const field = (
    <label className="block">
      <span className={labelClass}>{label}</span>
      {rows ? (
        <textarea {...common} rows={rows} onChange={(event) => onValue(event.target.value)} />
      ) : (
        <input ref={ref} {...props} {...common} onChange={(event) => onValue(event.target.value)} />
      )}
      {hint}
    </label>
  );
  if (limit === undefined) return field;
  // Outside the label, so that the field's name stays its label: the count is its description.
  return (
    <div>
      {field}
      <p id={counterId} className={`mt-1 text-right text-xs ${over ? "font-medium text-red-700" : "text-slate-500"}`}>
        {over ? `${used}/${limit}: ${used - limit} too many` : `${used}/${limit}`}
      </p>
    </div>
  );
}

/** A labelled drop-down. Labelled by id rather than by wrapping, since a wrapping label's
 * accessible name would take in every option's text too. */
export function SelectField<Value extends string>({
  label,
  name,
  value,
  options,
  onValue,
  small = false,
}: {
  label: string;
  name: string;
  value: Value;
  options: readonly { value: Value; label: string }[];
  onValue: (value: Value) => void;
  small?: boolean;
}) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id} className={small ? "text-sm font-medium" : "font-medium"}>
        {label}
      </label>
      <select
        id={id}
        name={name}
        className={inputClass}
        value={value}
        onChange={(event) => onValue(event.target.value as Value)}
      >
        {options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </div>
  );
}
