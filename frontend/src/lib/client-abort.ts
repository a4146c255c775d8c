/**
 * Whether `error` is Node.js's sign that the client went away before its request was whole
 * (`Error: aborted`, code ECONNRESET, from http.IncomingMessage; or the request's AbortSignal,
 * name AbortError): normal client behaviour (a closed tab, a lost network), not a fault here.
 */
export function isClientAbort(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  return (
    (error.message === "aborted" && (code === "ECONNRESET" || code === undefined)) ||
    error.name === "AbortError" ||
    code === "ERR_STREAM_PREMATURE_CLOSE"
  );
}
