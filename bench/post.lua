-- wrk: create a task on every request.
wrk.method = "POST"
wrk.body = '{"title": "benchmark task", "description": "made by wrk"}'
wrk.headers["Content-Type"] = "application/json"
