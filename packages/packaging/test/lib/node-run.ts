import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PathResult } from './oracle.js';
import { dawnEnv } from './workspace.js';

const exec = promisify(execFile);

/** Runs a consumer script in its own Node process with Dawn's driver set up; returns what it printed. */
export async function runNode(
  cwd: string,
  file: string,
  input: { x: number[]; cols: number },
): Promise<Record<string, PathResult> & { dualPackage?: Record<string, unknown> }> {
  let stdout: string;
  try {
    ({ stdout } = await exec(process.execPath, [file, JSON.stringify(input)], {
      cwd,
      env: dawnEnv(),
      timeout: 180_000,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${file} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line);
}
