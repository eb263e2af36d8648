/**
 * The one error type the model server throws on purpose: it carries the HTTP status
 * the client gets, and the message goes into the JSON body (KServe's `{"error": "..."}`).
 */
export class HttpError extends Error {
  readonly status: number;
  /** Extra response headers, e.g. `Allow` for 405. */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(status: number, message: string, headers?: Record<string, string>) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.headers = headers;
  }
}

/** KServe's errors.ModelNotFound text, answered with 404. */
export function modelNotFound(name: string): HttpError {
  return new HttpError(404, `Model with name ${name} does not exist.`);
}

/** KServe's errors.InvalidInput, answered with 400. */
export function invalidInput(message: string): HttpError {
  return new HttpError(400, message);
}
