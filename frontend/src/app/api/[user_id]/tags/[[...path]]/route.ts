import { forwardToTaskApi } from "@/lib/task-api-forward";

// Every method the task API may answer goes there; it decides 404 and 405 (with Allow) itself.
export {
  forwardToTaskApi as DELETE,
  forwardToTaskApi as GET,
  forwardToTaskApi as HEAD,
  forwardToTaskApi as OPTIONS,
  forwardToTaskApi as PATCH,
  forwardToTaskApi as POST,
  forwardToTaskApi as PUT,
};
