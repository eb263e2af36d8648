/** One write to a stream that resolves once the stream has taken it (backpressure stays with the pipeline). */
export function writeTo(out: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
