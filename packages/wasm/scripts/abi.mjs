// Loads src/abi.ts, the kernel's ABI table, at build time: TypeScript's transpiler strips its types
// (Node 20 cannot run .ts), and the table imports nothing, so the result runs on its own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export async function loadAbi(pkgDir) {
  const source = readFileSync(join(pkgDir, 'src', 'abi.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  return import(`data:text/javascript;base64,${Buffer.from(outputText).toString('base64')}`);
}
