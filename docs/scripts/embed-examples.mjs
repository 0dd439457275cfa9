// Writes each example file into docs/guide.md after its marker, so the guide shows exactly the
// code the tests run: `<!-- example: examples/NAME.mjs -->` followed by a ```js block.
// `node scripts/embed-examples.mjs` rewrites the guide; test/guide.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..');
export const GUIDE = join(DOCS, 'guide.md');

/** A marker, then optionally the block it owns (replaced on every run). */
const MARKER = /<!-- example: (\S+) -->\n(?:```js\n[\s\S]*?\n```\n)?/g;

/**
 * The guide with every marker's block set to its file's content.
 * @param {string} guide the guide's text
 * @param {(path: string) => string} read reads a path relative to docs/
 * @returns {{ text: string, files: string[] }} the new text and the files it embeds, in order
 */
export function embed(guide, read) {
  /** @type {string[]} */
  const files = [];
  const text = guide.replace(MARKER, (_, path) => {
    files.push(path);
    const code = read(path).replace(/\n$/, '');
    return `<!-- example: ${path} -->\n\`\`\`js\n${code}\n\`\`\`\n`;
  });
  return { text, files };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { text } = embed(readFileSync(GUIDE, 'utf8'), (path) => readFileSync(join(DOCS, path), 'utf8'));
  writeFileSync(GUIDE, text);
}
