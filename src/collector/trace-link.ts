/**
 * The UI's link from an exchange to its trace (`inferlog collect --trace-url`): an operator's URL
 * template in which the UI replaces `{traceId}` with the exchange's URL-encoded trace id, e.g.
 * `https://grafana.example/explore?left=…{traceId}…` or `https://jaeger.example/trace/{traceId}`.
 *
 * Only http(s) templates are accepted (checked here and again by the UI), so the link can never
 * be `javascript:` or `data:`; the trace id itself comes from validated W3C values only.
 */

/** A human message when the template is unusable, else undefined. */
export function traceUrlProblem(template: string): string | undefined {
  if (!template.includes('{traceId}')) return `"${template}" has no {traceId} placeholder`;
  let url: URL;
  try {
    url = new URL(template.replaceAll('{traceId}', '0'));
  } catch {
    return `"${template}" is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `"${template}" must be an http:// or https:// URL`;
  return undefined;
}

/** The `/healthz` fields that hand the template to the UI (`ui.traceUrl`); none when unset or unusable. */
export function traceLinkHealth(template: string | undefined): { ui?: { traceUrl: string } } {
  return template !== undefined && traceUrlProblem(template) === undefined
    ? { ui: { traceUrl: template } }
    : {};
}
