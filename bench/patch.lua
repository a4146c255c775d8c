-- wrk: toggle a task's completion on every request (PATCH …/complete, no body).
wrk.method = "PATCH"
