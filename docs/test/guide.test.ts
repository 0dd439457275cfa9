import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOCS, embed, GUIDE } from '../scripts/embed-examples.mjs';

const guide = readFileSync(GUIDE, 'utf8');
const { text, files } = embed(guide, (path) => readFileSync(join(DOCS, path), 'utf8'));

describe('docs/guide.md', () => {
  it('shows each example exactly as the file the tests run (node scripts/embed-examples.mjs updates it)', () => {
    expect(guide).toBe(text);
  });

  it('embeds every example file, each once', () => {
    const examples = readdirSync(join(DOCS, 'examples'))
      .filter((f) => f.endsWith('.mjs'))
      .map((f) => `examples/${f}`);
    expect([...files].sort()).toEqual(examples.sort());
  });

  it('has a section for each topic of the issue', () => {
    const headings = [...guide.matchAll(/^## (.+)$/gm)].map((m) => m[1].toLowerCase());
    for (const topic of [
      'choosing and forcing a backend',
      'explain()',
      'profiles',
      'accuracy',
      'special values',
      'zero-copy',
      'gpu-resident',
      'cross-entropy',
      'sampling',
    ]) {
      expect(
        headings.some((h) => h.includes(topic)),
        `a "## …${topic}…" section`,
      ).toBe(true);
    }
  });

  it('is linked from the root README', () => {
    expect(readFileSync(join(DOCS, '..', 'README.md'), 'utf8')).toContain('(docs/guide.md)');
  });

  it('links only to files that exist, and to headings they have', () => {
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    for (const [, target, anchor] of guide.matchAll(/\]\((?!https?:|#)([^)#\s]+)(?:#([^)]*))?\)/g)) {
      const path = join(DOCS, target);
      expect(existsSync(path), target).toBe(true);
      if (anchor === undefined) continue;
      const headings = [...readFileSync(path, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]));
      expect(headings, `${target}#${anchor}`).toContain(anchor);
    }
  });
});
