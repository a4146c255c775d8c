/**
 * The task API's limits, which the forms show and check before anything is sent. The API's own
 * values are in backend/src/taskapi/models.py (its OpenAPI document states them as maxLength and
 * maxItems); the browser suite reads that document and checks the forms against it
 * (e2e/test_task_page.py), so the two cannot drift apart unnoticed.
 *
 * Lengths are in characters as the API counts them: Unicode code points after NFC and, for a
 * title or a tag, after trimming (see `characters`).
 */
export const LIMITS = {
  title: 200,
  description: 1000,
  tags: 10,
  tag: 30,
  search: 100,
} as const;

/** How many characters the API will count in `text`: code points (an emoji is one, not the two
 * UTF-16 units of `String.length`) of its NFC form, trimmed first when the API trims it. */
export function characters(text: string, trimmed = false): number {
  const normalised = text.normalize("NFC");
  return [...(trimmed ? normalised.trim() : normalised)].length;
}
