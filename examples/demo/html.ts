/**
 * A tiny HTML templating helper: interpolated values are escaped unless they are already
 * {@link SafeHtml} (the output of another `html` template), so a page cannot be broken (or
 * scripted) by a user name, a header value or a URL that the client controls.
 */

/** Markup that is already escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use in element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  let out = '';
  for (const char of text) out += ESCAPES[char] ?? char;
  return out;
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${text}</p>\`` escapes `text`; nested templates and arrays pass. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Pretty-printed JSON, escaped, for a `<pre>` block. */
export function json(value: unknown): SafeHtml {
  return new SafeHtml(escapeHtml(JSON.stringify(value, null, 2) ?? 'undefined'));
}
