/**
 * Every link of README.md, SECURITY.md and docs/*.md that stays in the repository resolves: the
 * file it names exists, and its `#anchor` is a heading of that file (or of the same file), with
 * the anchor spelt as GitHub makes it from the heading. Links to other sites are not followed.
 */
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

const files = [
  'README.md',
  'SECURITY.md',
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The lines of `file` outside fenced code blocks, with inline code spans blanked. */
function proseLines(file: string): { line: number; text: string }[] {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  const prose: { line: number; text: string }[] = [];
  let fence: string | undefined;
  lines.forEach((text, index) => {
    const marker = /^\s*(```+|~~~+)/.exec(text)?.[1];
    if (marker !== undefined) {
      if (fence === undefined) fence = marker[0];
      else if (marker[0] === fence) fence = undefined;
      return;
    }
    if (fence === undefined) prose.push({ line: index + 1, text });
  });
  return prose;
}

/**
 * GitHub's anchor for a heading: its text (inline code and link text kept, markup dropped) in
 * lower case, without punctuation but `-` and `_`, spaces made `-`; a repeated one gets `-1`, `-2`…
 */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(file)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]*>/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const { text } of proseLines(file)) {
    for (const match of text.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(match[1]!);
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Inline links (`[text](target)`) whose target is in the repository. */
function linksOf(file: string): Link[] {
  const links: Link[] = [];
  for (const { line, text } of proseLines(file)) {
    const prose = text.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length));
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      links.push({ file, line, target });
    }
  }
  return links;
}

/** Why `link` does not resolve, or `undefined` when it does. */
function problemOf(link: Link): string | undefined {
  const [pathPart = '', anchor] = link.target.split('#', 2);
  const target = pathPart === '' ? link.file : path.join(path.dirname(link.file), pathPart);
  if (!fs.existsSync(path.join(root, target))) return `no file ${target}`;
  if (anchor === undefined) return undefined;
  if (!target.endsWith('.md')) return `an anchor into ${target}, which has no headings`;
  const anchors = anchorsOf(target);
  return anchors.has(decodeURIComponent(anchor)) ? undefined : `no heading #${anchor} in ${target}`;
}

describe('links between the documents', () => {
  const links = files.flatMap(linksOf);

  it('finds the links (anchors within a page, into another page, to files)', () => {
    expect(links.some((link) => link.target.startsWith('#'))).toBe(true);
    expect(links.some((link) => /\.md#/.test(link.target))).toBe(true);
    expect(links.some((link) => link.target.endsWith('.ts'))).toBe(true);
  });

  it('spells anchors as GitHub does', () => {
    const readme = anchorsOf('README.md');
    // Backticks, parentheses and the colon dropped; spaces made hyphens.
    expect(readme.has('authenticateoptions')).toBe(true);
    expect(readme.has('the-client-authschemeclient')).toBe(true);
    expect(readme.has('bearer-rfc-6750-and-jwt')).toBe(true);
    expect(anchorsOf('docs/digest.md').has('qopauth-int-the-request-body-too')).toBe(true);
  });

  it('resolves every one: the file exists and the anchor is one of its headings', () => {
    const broken = links.flatMap((link) => {
      const problem = problemOf(link);
      return problem === undefined ? [] : [`${link.file}:${link.line}: ${link.target}: ${problem}`];
    });
    expect(broken).toEqual([]);
  });
});
