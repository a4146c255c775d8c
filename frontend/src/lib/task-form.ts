/**
 * What the task forms hold, and what they send: a whole task on create, and on an edit only the
 * fields the person changed (a PATCH leaves every field it does not name as it is, RFC 5789).
 */
import type { Priority, Task, TaskInput } from "@/lib/api-service";
import { LIMITS, characters } from "@/lib/limits";

/** The form's values as typed; `due` as `<input type="datetime-local">` speaks it. */
export type TaskForm = { title: string; description: string; priority: Priority; tags: string; due: string };

export const EMPTY_FORM: TaskForm = { title: "", description: "", priority: "medium", tags: "", due: "" };

/** The form an edit starts from. */
export function formOf(task: Task): TaskForm {
  return {
    title: task.title,
    description: task.description ?? "",
    priority: task.priority,
    tags: task.tags.join(", "),
    due: toLocalInput(task.due_at),
  };
}

/** A new task from a filled-in form. */
export function inputOf(form: TaskForm): TaskInput {
  return {
    title: form.title.trim(),
    description: descriptionOf(form.description),
    priority: form.priority,
    tags: parseTags(form.tags),
    due_at: fromLocalInput(form.due),
  };
}

/**
 * The fields to send for an edit: each one whose value differs from what the form was
 * initialised with, compared per field as it would be sent. So an untouched due date keeps its
 * seconds (the input shows minutes), untouched details keep their spacing, tags typed again in
 * the same order with other spacing are no change, and the same tags in another order are one.
 * Empty when nothing changed.
 */
export function changedFields(initial: TaskForm, current: TaskForm): Partial<TaskInput> {
  const changes: Partial<TaskInput> = {};
  if (current.title.trim() !== initial.title.trim()) changes.title = current.title.trim();
  if (current.description !== initial.description) changes.description = descriptionOf(current.description);
  if (current.priority !== initial.priority) changes.priority = current.priority;
  const tags = parseTags(current.tags);
  const before = parseTags(initial.tags);
  if (tags.length !== before.length || tags.some((tag, index) => tag !== before[index])) changes.tags = tags;
  if (current.due !== initial.due) changes.due_at = fromLocalInput(current.due);
  return changes;
}

/** Details as typed (the API keeps spacing and line breaks); nothing but spaces is none. */
function descriptionOf(text: string): string | null {
  return text.trim() ? text : null;
}

/** "Work, home office" → ["work", "home office"]: trimmed, lower-cased, NFC and without repeats,
 * as the API stores them, so that what is counted and compared here is what it will hold. */
export function parseTags(text: string): string[] {
  return text
    .split(",")
    .map((tag) => tag.trim().toLowerCase().normalize("NFC"))
    .filter((tag, index, all) => tag && all.indexOf(tag) === index);
}

/** What is wrong with the tags as typed, in words, or null: too many, or one too long. */
export function tagsProblem(text: string): string | null {
  const tags = parseTags(text);
  if (tags.length > LIMITS.tags) return `${tags.length} tags: at most ${LIMITS.tags}.`;
  const long = tags.find((tag) => characters(tag) > LIMITS.tag);
  if (long === undefined) return null;
  const shown = [...long].length > 20 ? `${[...long].slice(0, 20).join("")}…` : long;
  return `“${shown}” is longer than ${LIMITS.tag} characters.`;
}

/** Whether the API will take the form's text as it is (the counters say why not). */
export function withinLimits(form: TaskForm): boolean {
  return (
    characters(form.title, true) <= LIMITS.title &&
    characters(form.description) <= LIMITS.description &&
    tagsProblem(form.tags) === null
  );
}

/** `<input type="datetime-local">` speaks local wall-clock time without a zone, to the minute;
 * the API wants an instant. These convert between the two in the browser's own time zone. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const moment = new Date(iso);
  const local = new Date(moment.getTime() - moment.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function fromLocalInput(value: string): string | null {
  return value ? new Date(value).toISOString() : null;
}
