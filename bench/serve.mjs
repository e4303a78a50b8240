#!/usr/bin/env node
// `hdglue serve` under load (autocannon against 127.0.0.1), with the ceilings measured in the
// same run:
//   - const: a bare fastify route that parses the same JSON bodies and answers a constant (the
//     HTTP + JSON limit of this machine);
//   - in-process: glue.predictAsync on the same rows, 64-row calls, 16 in flight (rows/s);
//   - serve, batching off and on: single-row requests at 1 / 16 / 64 / 256 connections, and
//     64-row requests at 16; then /healthz latency while 256 connections saturate the server.
// Targets, as ratios of this run: single-row at 64 connections with batching >= 0.5 x const
// req/s; 64-row requests >= 0.5 x in-process rows/s; /healthz p99 < 50 ms under saturation.
//   npm run bench:serve [-- --batch on|off|both] [-- --max-wait-ms MS] [-- --duration 3] [-- --json FILE]
// The servers and the in-process run are child processes (bin/hdglue.mjs over dist/); autocannon
// runs here. The model: the default recipe (D = 10,000) on data/digits.csv, two 32-feature members.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const BODY_LIMIT = 8 * 1024 * 1024;

// The digits rows scaled to [0, 1], split into two 32-feature members.
function digits() {
  const lines = readFileSync(join(root, 'data/digits.csv'), 'utf8').trim().split('\n').slice(1);
  const n = lines.length;
  const top = new Float32Array(n * 32);
  const bottom = new Float32Array(n * 32);
  const y = [];
  lines.forEach((line, r) => {
    const v = line.split(',').map(Number);
    for (let f = 0; f < 32; f++) {
      top[r * 32 + f] = v[f] / 16;
      bottom[r * 32 + f] = v[32 + f] / 16;
    }
    y.push(v[64]);
  });
  return { n, top, bottom, y };
}

const rowsOf = (x, from, count) =>
  Array.from({ length: count }, (_, r) => Array.from(x.subarray((from + r) * 32, (from + r + 1) * 32)));

// 16 different bodies of `rows` rows each (autocannon cycles through them).
function bodies(d, rows) {
  return Array.from({ length: 16 }, (_, i) => {
    const from = (i * 97) % (d.n - rows);
    return JSON.stringify({ inputs: { top: rowsOf(d.top, from, rows), bottom: rowsOf(d.bottom, from, rows) } });
  });
}

async function parent() {
  const { default: autocannon } = await import('autocannon');
  const { backendInfo, buildMember, DEFAULT_RECIPE, HDGlue } = await import(join(root, 'dist/index.js'));
  const duration = Number(opt('--duration', 3));
  const which = opt('--batch', 'both');
  if (!['on', 'off', 'both'].includes(which)) throw new Error('--batch takes on, off or both');
  const modes = which === 'both' ? ['off', 'on'] : [which];
  const dir = mkdtempSync(join(os.tmpdir(), 'hdglue-bench-serve-'));
  const model = join(dir, 'digits.hdg');
  const d = digits();
  const glue = new HDGlue();
  glue.addMember('top', buildMember(d.top, 32, d.y, DEFAULT_RECIPE, 1));
  glue.addMember('bottom', buildMember(d.bottom, 32, d.y, DEFAULT_RECIPE, 2));
  glue.save(model);
  const single = bodies(d, 1);
  const sixtyFour = bodies(d, 64);
  const info = backendInfo();
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    backend: `${info.backend}/${info.isa}`,
  };
  console.log(`CPU: ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, backend ${machine.backend}`);
  console.log(`model: default recipe, D = 10,000, 2 members x 32 features, 10 classes; ${duration} s per run\n`);

  const load = (url, body, connections, path = '/v1/predict') =>
    autocannon({
      url: `${url}${path}`,
      connections,
      duration,
      ...(body
        ? {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            requests: body.map((b) => ({ body: b })),
          }
        : {}),
    });
  const records = [];
  const show = (name, rows, r) => {
    const rec = {
      name,
      reqPerSec: r.requests.average,
      rowsPerSec: r.requests.average * rows,
      p50: r.latency.p50,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts + r.non2xx,
    };
    records.push(rec);
    const f = (v) => Math.round(v).toLocaleString('en-US').padStart(9);
    console.log(
      `${name.padEnd(34)} ${f(rec.reqPerSec)} req/s ${f(rec.rowsPerSec)} rows/s  p50 ${String(rec.p50).padStart(4)} ms  p99 ${String(rec.p99).padStart(4)} ms${rec.errors ? `  (${rec.errors} errors / non-2xx)` : ''}`,
    );
    return rec;
  };

  const inproc = JSON.parse(await runChild([fileURLToPath(import.meta.url), '--in-process', model, String(duration)]));
  records.push({ name: 'in-process predictAsync, 64 rows x 16', rowsPerSec: inproc.rowsPerSec });
  console.log(
    `${'in-process predictAsync, 64 rows x 16'.padEnd(34)} ${' '.repeat(15)} ${Math.round(inproc.rowsPerSec).toLocaleString('en-US').padStart(9)} rows/s`,
  );

  const constant = await startChild([fileURLToPath(import.meta.url), '--constant-server']);
  const ceiling = {};
  for (const c of [1, 16, 64, 256])
    ceiling[c] = show(`const route, 1 row, c=${c}`, 1, await load(constant.url, single, c));
  show('const route, 64 rows, c=16', 64, await load(constant.url, sixtyFour, 16));
  await constant.stop();

  const results = {};
  let failed = false;
  for (const mode of modes) {
    let server;
    try {
      server = await startChild([
        join(root, 'bin/hdglue.mjs'),
        'serve',
        '--model',
        model,
        '--port',
        '0',
        '--batch',
        mode,
        ...(opt('--max-wait-ms', '') === '' ? [] : ['--max-wait-ms', opt('--max-wait-ms', '')]),
      ]);
    } catch (e) {
      console.log(`serve --batch ${mode}: did not start: ${e.message}`);
      failed = true;
      continue;
    }
    const r = {};
    results[mode] = r;
    for (const c of [1, 16, 64, 256])
      r[c] = show(`serve --batch ${mode}, 1 row, c=${c}`, 1, await load(server.url, single, c));
    r.rows64 = show(`serve --batch ${mode}, 64 rows, c=16`, 64, await load(server.url, sixtyFour, 16));
    // /healthz while 256 connections keep the predict route saturated.
    const [, health] = await Promise.all([load(server.url, single, 256), load(server.url, null, 1, '/healthz')]);
    r.health = show(`serve --batch ${mode}, /healthz under c=256`, 0, health);
    await server.stop();
  }

  console.log('\ntargets (ratios of this run):');
  const mode = results.on ? 'on' : 'off';
  const r = results[mode];
  if (r) {
    const check = (what, value, ok) => {
      console.log(`  ${ok ? 'pass' : 'FAIL'}  ${what}: ${value}`);
      if (!ok) failed = true;
    };
    const a = r[64].reqPerSec / ceiling[64].reqPerSec;
    check(`1-row req/s at c=64, batching ${mode} / const route >= 0.5`, a.toFixed(2), a >= 0.5);
    const b = r.rows64.rowsPerSec / inproc.rowsPerSec;
    check(`64-row rows/s, batching ${mode} / in-process >= 0.5`, b.toFixed(2), b >= 0.5);
    check(`/healthz p99 under saturation < 50 ms`, `${r.health.p99} ms`, r.health.p99 < 50);
    if (!results.on) console.log('  (batching on was not measured: the ratios above are with batching off)');
  }
  const json = opt('--json');
  if (json) writeFileSync(json, `${JSON.stringify({ machine, duration, records }, null, 2)}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = failed ? 1 : 0;
}

// A child process that prints `listening on URL` first: resolves with the URL and a stop().
function startChild(argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (b) => {
      err += b;
    });
    child.stdout.on('data', (b) => {
      out += b;
      const m = /^listening on (\S+)/m.exec(out);
      if (m) {
        const exited = new Promise((r) => child.once('exit', r));
        resolve({
          url: m[1],
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${err.trim().split('\n')[0]}`)));
  });
}

// The in-process run uses the scan threads hdglue serve uses (it sets HDGLUE_THREADS=1 unless given).
function runChild(argv) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, HDGLUE_THREADS: process.env.HDGLUE_THREADS ?? '1' };
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (b) => {
      out += b;
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`in-process run exited with ${code}`)),
    );
  });
}

// The HTTP + JSON ceiling: fastify with the server's body limit, parsing each body, answering a constant.
async function constantServer() {
  const { default: Fastify } = await import('fastify');
  const app = Fastify({ bodyLimit: BODY_LIMIT, logger: false });
  app.post('/v1/predict', async (request) => {
    if (typeof request.body !== 'object') throw new Error('no body');
    return { labels: [0] };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  console.log(`listening on http://127.0.0.1:${a.port}`);
  process.on('SIGTERM', () => void app.close());
}

// In-process ceiling: predictAsync on 64-row float32 inputs, 16 calls in flight, for `duration` s.
async function inProcess(model, duration) {
  const { HDGlue } = await import(join(root, 'dist/index.js'));
  const glue = HDGlue.load(model);
  const d = digits();
  const inputs = Array.from({ length: 16 }, (_, i) => {
    const from = (i * 97) % (d.n - 64);
    return { top: d.top.slice(from * 32, (from + 64) * 32), bottom: d.bottom.slice(from * 32, (from + 64) * 32) };
  });
  let rows = 0;
  const end = performance.now() + duration * 1000;
  const t0 = performance.now();
  await Promise.all(
    inputs.map(async (x) => {
      while (performance.now() < end) {
        await glue.predictAsync(x);
        rows += 64;
      }
    }),
  );
  console.log(JSON.stringify({ rowsPerSec: rows / ((performance.now() - t0) / 1000) }));
}

// Dispatch last: the helpers above (consts) must be initialised first.
if (args[0] === '--constant-server') await constantServer();
else if (args[0] === '--in-process') await inProcess(args[1], Number(args[2]));
else await parent();
