/**
 * The model server's errors on purpose, in KServe's terms: InferlogErrors with the HTTP status
 * the client gets; the message goes into the JSON body (KServe's `{"error": "..."}`).
 */
import { InferlogError } from '../core/errors.js';

/** KServe's errors.ModelNotFound text, answered with 404. */
export function modelNotFound(name: string): InferlogError {
  return new InferlogError('NOT_FOUND', `Model with name ${name} does not exist.`, { status: 404 });
}

/** KServe's errors.InvalidInput, answered with 400. */
export function invalidInput(message: string): InferlogError {
  return new InferlogError('MODEL_INPUT_INVALID', message, { status: 400 });
}

/** The model failed on a request (KServe answers 500 with the runtime's message). */
export function modelFailed(message: string): InferlogError {
  return new InferlogError('MODEL_FAILED', message, { status: 500 });
}
