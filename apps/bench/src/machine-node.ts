import os from 'node:os';

export function describeNodeMachine(adapter: string | undefined): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    runtime: `Node ${process.version}`,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    gpu: adapter ?? 'none',
  };
}
