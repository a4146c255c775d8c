import { forwardToTaskApi } from "@/lib/task-api-forward";

// "Download my data" (GET /api/{user_id}/export): every method goes there, as for the tasks, so
// that the task API answers 405 (with Allow) itself; its body is streamed through, never held.
export {
  forwardToTaskApi as DELETE,
  forwardToTaskApi as GET,
  forwardToTaskApi as HEAD,
  forwardToTaskApi as OPTIONS,
  forwardToTaskApi as PATCH,
  forwardToTaskApi as POST,
  forwardToTaskApi as PUT,
};
