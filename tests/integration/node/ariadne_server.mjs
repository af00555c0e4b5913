// A real `ariadne serve` for the end-to-end tests: every listener on a free loopback port, the
// given data directory. startAriadne resolves once the listeners named in `waitFor` are printed
// (`listening NAME ADDRESS` on stdout) and rejects if the server exits first or within 10 s.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export function startAriadne(binary, dataDir, { extraArgs = [], waitFor = ['otlp-http', 'http'] } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, ['serve', '--data-dir', dataDir, '--otlp-http', '0', '--otlp-grpc', '0',
      '--http', '0', '--xray', '0', '--zipkin', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    const listening = {};
    const timer = setTimeout(() => reject(new Error(`no listening lines after 10 s: ${stderr}`)), 10000);
    const rl = createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      const m = /^listening (\S+) (\S+)$/.exec(line);
      if (m) listening[m[1]] = m[2];
      if (waitFor.every((name) => listening[name])) {
        clearTimeout(timer);
        resolve({
          proc, listening, otlp: listening['otlp-http'], grpc: listening['otlp-grpc'],
          zipkin: listening.zipkin, http: listening.http, stderr: () => stderr,
        });
      }
    });
    proc.on('exit', (code) => reject(new Error(`ariadne serve exited early (${code}): ${stderr}`)));
  });
}

// SIGTERM, then resolves with how the server exited.
export function stopAriadne(server) {
  return new Promise((resolve) => {
    server.proc.removeAllListeners('exit');
    server.proc.on('exit', (code, signal) => resolve({ code, signal }));
    server.proc.kill('SIGTERM');
  });
}
