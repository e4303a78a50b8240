// `hdglue serve` as users run it: the real launcher (bin/hdglue.mjs over dist/, built by
// `npm test`'s pretest) in a child process on --port 0, driven over HTTP and by signals: the
// first stdout line, SIGHUP reloads (a good file and a corrupt one), SIGTERM under load (every
// accepted request answered, exit 0 within 10 s), and a fuzz loop of bad bodies (each a 4xx with
// a code, the server healthy after and its memory bounded).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HDGlue } from '../lib/model/glue.js';
import { prng } from './helpers.js';
import { digitsMembers, jsonRows, servedGlue } from './serve-fixtures.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'hdglue.mjs');
const dir = mkdtempSync(join(tmpdir(), 'hdglue-serve-process-'));
const pathA = join(dir, 'a.hdg');
const pathB = join(dir, 'b.hdg');
// The server's default mode: coalescing through lib/batch's glueBatcher.
const BATCH = 'on';
let glueA: HDGlue;
const test = digitsMembers(16, 1300);
const children: ChildProcess[] = [];

beforeAll(() => {
  glueA = servedGlue({ seed: 1 });
  glueA.save(pathA);
  servedGlue({ seed: 7, names: ['left', 'right'] }).save(pathB);
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Served {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serve(...args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--batch', BATCH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr?.on('data', (b) => {
    err += b;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (b) => {
      out += b;
      const m = /^listening on (\S+)\n/.exec(out);
      if (m) resolve({ url: m[1] as string, child, stdout: () => out, stderr: () => err, exited });
    });
    void exited.then(({ code }) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const json = { 'content-type': 'application/json' };
const predictBody = (from: number, rows: number) =>
  JSON.stringify({ inputs: { top: jsonRows(test.top, from, rows), bottom: jsonRows(test.bottom, from, rows) } });

describe('hdglue serve (child process)', () => {
  it('prints "listening on http://127.0.0.1:PORT" first; refuses a missing or corrupt model with one line', async () => {
    const s = await serve('--model', pathA);
    expect(s.stdout()).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    const r = await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: json, body: predictBody(0, 16) });
    expect((await r.json()).labels).toEqual(glueA.predict({ top: test.top, bottom: test.bottom }));
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);

    const none = spawnSync(process.execPath, [bin, 'serve', '--port', '0'], { encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/serve needs --model/);
    const bad = join(dir, 'bad.hdg');
    writeFileSync(bad, 'not a model');
    const corrupt = spawnSync(process.execPath, [bin, 'serve', '--model', bad, '--port', '0', '--batch', BATCH], {
      encoding: 'utf8',
    });
    expect(corrupt.status).toBe(2);
    expect(corrupt.stdout).toBe('');
    expect(corrupt.stderr.trim().split('\n')).toHaveLength(1);
    expect(corrupt.stderr).toContain(bad);
    // A port in use is the caller's to fix: one line, exit 2.
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = String((busy.address() as AddressInfo).port);
    const taken = spawnSync(process.execPath, [bin, 'serve', '--model', pathA, '--port', port, '--batch', BATCH], {
      encoding: 'utf8',
    });
    busy.close();
    expect(taken.status).toBe(2);
    expect(taken.stderr).toMatch(/^hdglue: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });

  it('SIGHUP swaps in a new model file; a corrupt one keeps the old model and logs one line', async () => {
    const live = join(dir, 'live.hdg');
    copyFileSync(pathA, live);
    const s = await serve('--model', live);
    const members = async () => (await (await fetch(`${s.url}/healthz`)).json()).members as string[];
    expect(await members()).toEqual(['top', 'bottom']);
    // Replaced the way a deployment should: write aside, rename over.
    copyFileSync(pathB, `${live}.tmp`);
    renameSync(`${live}.tmp`, live);
    s.child.kill('SIGHUP');
    await until(async () => (await members()).join() === 'left,right', 'the new model');
    expect(s.stderr()).toMatch(/reloaded .*live\.hdg \(members: left, right\)\n/);

    writeFileSync(live, 'garbage, not a model');
    const before = s.stderr().length;
    s.child.kill('SIGHUP');
    await until(() => s.stderr().includes('reload failed'), 'the reload failure line');
    const lines = s.stderr().slice(before).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hdglue: reload failed, still serving the previous model: .*live\.hdg/);
    expect(await members()).toEqual(['left', 'right']);
    const body = JSON.stringify({ inputs: { left: jsonRows(test.top, 0, 2), right: jsonRows(test.bottom, 0, 2) } });
    expect((await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: json, body })).status).toBe(200);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });

  it('SIGTERM under load: every accepted request is answered (200 with its labels, or 503 with a code), exit 0 within 10 s', async () => {
    const s = await serve('--model', pathA);
    const want = glueA.predict({ top: test.top, bottom: test.bottom });
    const outcomes = { ok: 0, refused: 0, wrong: 0, connectionErrors: 0 };
    let stop = false;
    const client = async (k: number) => {
      while (!stop) {
        const from = k % 8;
        let r: Response;
        try {
          r = await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: json, body: predictBody(from, 8) });
        } catch {
          // Never reached the server's handler (refused, or closed while idle): not accepted.
          outcomes.connectionErrors++;
          return;
        }
        const body = await r.json();
        if (r.status === 200 && JSON.stringify(body.labels) === JSON.stringify(want.slice(from, from + 8)))
          outcomes.ok++;
        else if (r.status === 503 && body.error?.code === 'ERR_HDGLUE_CLOSED' && r.headers.get('retry-after')) {
          outcomes.refused++;
          return;
        } else outcomes.wrong++;
      }
    };
    const clients = Array.from({ length: 24 }, (_, k) => client(k));
    await until(() => outcomes.ok >= 100, '100 answers under load');
    const t0 = Date.now();
    s.child.kill('SIGTERM');
    const { code } = await s.exited;
    const took = Date.now() - t0;
    stop = true;
    await Promise.all(clients);
    expect(code).toBe(0);
    expect(took).toBeLessThan(10_000);
    expect(outcomes.wrong).toBe(0);
    const m = /stopped: (\d+) of (\d+) requests answered, (\d+) clients left first/.exec(s.stderr());
    expect(m, s.stderr()).not.toBeNull();
    const [answered, received, gone] = [Number(m?.[1]), Number(m?.[2]), Number(m?.[3])];
    expect(answered).toBe(received);
    expect(gone).toBe(0);
    // What the server answered is what the clients got.
    expect(outcomes.ok + outcomes.refused).toBe(answered);
  });

  it('fuzzed bodies: every answer a 4xx with a code; healthy after; memory bounded; hung-up clients leak nothing', async () => {
    const s = await serve('--model', pathA, '--body-limit', '65536');
    const rss = async () =>
      Number(/^process_resident_memory_bytes (\d+)/m.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1]);
    const next = prng(15);
    const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length] as T;
    const good = predictBody(0, 4);
    const row = jsonRows(test.top, 0, 1)[0] as number[];
    const junk = [null, true, 1, -0.5, 'x', '', [], {}, [[]], [[null]], { top: 1 }];
    const notNumbers = junk.filter((j) => typeof j !== 'number');
    const cases: (() => { body: string | Uint8Array; type: string; url?: string })[] = [
      () => ({ body: good.slice(0, 1 + (next() % (good.length - 1))), type: 'application/json' }), // truncated
      () => ({ body: `{"inputs": {"top": [${'[1,'.repeat(70_000)}]}}`, type: 'application/json' }), // over the limit
      () => {
        const depth = 1 + (next() % 20_000);
        return { body: `{"inputs": {"top": ${'['.repeat(depth)}${']'.repeat(depth)}}}`, type: 'application/json' };
      }, // deeply nested
      () => ({ body: `${'['.repeat(30_000)}${']'.repeat(30_000)}`, type: 'application/json' }),
      () => {
        const at = next() % 32;
        const bad = row.map((v, i) => (i === at ? pick(notNumbers) : v));
        return { body: JSON.stringify({ inputs: { top: [bad] } }), type: 'application/json' };
      },
      () => ({ body: JSON.stringify({ inputs: pick(junk) }), type: 'application/json' }),
      () => ({ body: JSON.stringify(pick(junk)), type: 'application/json' }),
      () => ({
        body: `{"inputs": {"top": [[${[...row.slice(1), pick(['NaN', 'Infinity', '-Infinity', '1e999', '-1e400'])].join(',')}]]}}`,
        type: 'application/json',
      }),
      () => ({ body: JSON.stringify({ inputs: { top: [row.slice(0, next() % 32)] } }), type: 'application/json' }),
      () => ({ body: JSON.stringify({ inputs: { top: [row, row], bottom: [row] } }), type: 'application/json' }),
      () => ({ body: JSON.stringify({ inputs: { [`m${next() % 5}`]: [row] } }), type: 'application/json' }),
      () => ({ body: Uint8Array.from({ length: next() % 300 }, () => next() & 255), type: 'application/octet-stream' }),
      () => ({ body: Uint8Array.from({ length: next() % 300 }, () => next() & 255), type: 'application/x-npy' }),
      () => ({ body: Uint8Array.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28]), type: 'application/json' }), // not UTF-8
      () => ({ body: good, type: pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', '']) }),
      () => ({
        body: good,
        type: 'application/json',
        url: pick(['/v1/predict?member=top', '/v1/predict/x', '/v2/predict', '/file?path=/etc/passwd']),
      }),
    ];
    await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: json, body: good });
    const rss0 = await rss();
    const seen = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const c = pick(cases)();
      const headers: Record<string, string> = c.type ? { 'content-type': c.type } : {};
      let status: number;
      let code: string | undefined;
      try {
        const r = await fetch(`${s.url}${c.url ?? '/v1/predict'}`, { method: 'POST', headers, body: c.body });
        status = r.status;
        code = (await r.json()).error?.code;
      } catch (e) {
        throw new Error(`case ${i}: no answer (${(e as Error).message}) for ${String(c.body).slice(0, 80)}`);
      }
      expect(status, String(c.body).slice(0, 200)).toBeGreaterThanOrEqual(400);
      expect(status, String(c.body).slice(0, 200)).toBeLessThan(500);
      expect(code, String(c.body).slice(0, 200)).toMatch(/^ERR_HDGLUE_[A-Z_]+$/);
      seen.set(`${status} ${code}`, (seen.get(`${status} ${code}`) ?? 0) + 1);
    }
    expect([...seen.keys()]).toEqual(
      expect.arrayContaining(['400 ERR_HDGLUE_BAD_REQUEST', '413 ERR_HDGLUE_LIMIT', '400 ERR_HDGLUE_SHAPE']),
    );
    // Clients that send a whole request and hang up at once, and one that promises more body
    // than it sends: nothing is left queued, and the server answers as before.
    for (let i = 0; i < 30; i++) {
      const { port } = new URL(s.url);
      const sock = connect(Number(port), '127.0.0.1');
      sock.on('error', () => {});
      const len = i === 0 ? 10_000 : Buffer.byteLength(good);
      sock.end(
        `POST /v1/predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${len}\r\n\r\n${good}`,
      );
      sock.destroy();
    }
    await until(
      async () => /^hdglue_queue_depth 0$/m.test(await (await fetch(`${s.url}/metrics`)).text()),
      'an empty queue',
    );
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const ok = await fetch(`${s.url}/v1/predict`, { method: 'POST', headers: json, body: good });
    expect(ok.status).toBe(200);
    expect(await rss()).toBeLessThan(rss0 + 150 * 2 ** 20);
    s.child.kill('SIGTERM');
    expect((await s.exited).code).toBe(0);
  });
});
