import { useId } from "react";

import type { Priority, Task } from "@/lib/api-service";
import { LIMITS } from "@/lib/limits";
import { type TaskForm, tagsProblem } from "@/lib/task-form";
import { SelectField, inputClass } from "@/components/ui";

export const PRIORITIES: { value: Priority; label: string }[] = [
  { value: "high", label: "High" },
  { value: "medium", label: "Medium" },
  { value: "low", label: "Low" },
];

const BADGE: Record<Priority, string> = {
  high: "bg-red-100 text-red-800 ring-red-200",
  medium: "bg-amber-50 text-amber-800 ring-amber-200",
  low: "bg-slate-100 text-slate-700 ring-slate-200",
};

export function PriorityBadge({ priority }: { priority: Priority }) {
  return (
    <span
      data-testid="priority"
      className={`rounded px-1.5 py-0.5 text-xs font-semibold uppercase ring-1 ${BADGE[priority]}`}
    >
      {priority}
    </span>
  );
}

/** Tags as buttons: a click filters the list by that tag. The list is named after its task, so
 * that it is not one more "Tags" beside the form's field of that name. */
export function TagChips({
  title,
  tags,
  onPick,
}: {
  title: string;
  tags: string[];
  onPick: (tag: string) => void;
}) {
  if (tags.length === 0) return null;
  return (
    <ul aria-label={`Tags of ${title}`} className="mt-1 flex flex-wrap gap-1">
      {tags.map((tag) => (
        <li key={tag}>
          <button
            type="button"
            onClick={() => onPick(tag)}
            aria-label={`Show tasks tagged ${tag}`}
            className="rounded-full bg-indigo-50 px-2 py-0.5 text-xs text-indigo-800 ring-1 ring-indigo-200 hover:bg-indigo-100"
          >
            #{tag}
          </button>
        </li>
      ))}
    </ul>
  );
}

export function isOverdue(task: Task, now = Date.now()): boolean {
  return !task.completed && task.due_at !== null && Date.parse(task.due_at) < now;
}

export function DueLabel({ task }: { task: Task }) {
  if (!task.due_at) return null;
  const overdue = isOverdue(task);
  const when = new Date(task.due_at).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
  return (
    <p data-testid="due" className={`text-sm ${overdue ? "font-semibold text-red-700" : "text-slate-600"}`}>
      {overdue ? `Overdue: was due ${when}` : `Due ${when}`}
    </p>
  );
}

/** Priority, tags and due date: the part of a task form (`TaskForm`) beside its text. */
export type Extras = Pick<TaskForm, "priority" | "tags" | "due">;

export const NO_EXTRAS: Extras = { priority: "medium", tags: "", due: "" };

/** Priority, tags and due date: the same three inputs when creating and when editing. */
export function ExtraFields({
  value,
  onChange,
  small = false,
}: {
  value: Extras;
  onChange: (next: Extras) => void;
  small?: boolean;
}) {
  const label = small ? "text-sm font-medium" : "font-medium";
  const hintId = useId();
  const problem = tagsProblem(value.tags);
  return (
    // The due column keeps room for a whole date and time ("12/31/2026, 12:00 PM" and the
    // picker's icon): in the narrower editor an equal third cut off AM/PM.
    <div className="grid gap-3 sm:grid-cols-[minmax(0,1fr)_minmax(0,1.4fr)_minmax(14rem,1fr)]">
      <SelectField
        small={small}
        label="Priority"
        name="priority"
        value={value.priority}
        options={PRIORITIES}
        onValue={(priority) => onChange({ ...value, priority })}
      />
      <div>
        <label className="block">
          <span className={label}>Tags</span>
          <input
            name="tags"
            className={inputClass}
            placeholder="work, home"
            aria-describedby={hintId}
            aria-invalid={problem !== null || undefined}
            value={value.tags}
            onChange={(event) => onChange({ ...value, tags: event.target.value })}
          />
        </label>
        {/* The API's limits, shown before they are reached; what is wrong once one is passed. */}
        <p id={hintId} className={`mt-1 text-xs ${problem ? "font-medium text-red-700" : "text-slate-500"}`}>
          {problem ?? `Up to ${LIMITS.tags} tags, separated by commas, each up to ${LIMITS.tag} characters`}
        </p>
      </div>
      <label className="block">
        <span className={label}>Due</span>
        <input
          name="due"
          type="datetime-local"
          className={inputClass}
          value={value.due}
          onChange={(event) => onChange({ ...value, due: event.target.value })}
        />
      </label>
    </div>
  );
}
