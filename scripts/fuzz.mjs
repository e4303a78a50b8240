#!/usr/bin/env node
// Build the libFuzzer harness of the C ABI (native/fuzz/fuzz_core.cc; CMake preset "fuzz": clang,
// ASan, UBSan) and run it for a while. `npm test` runs it for a few seconds; a long run is
//   node scripts/fuzz.mjs --seconds 300
// Without clang or libFuzzer it exits 77 (skipped) with a notice, unless HDGLUE_REQUIRE_FUZZ=1
// (as .ci/run sets), which makes a missing toolchain a failure. Seeds: a fixed set of generated
// inputs plus the corpus kept in build-cmake/fuzz/corpus between local runs. A crash leaves its
// input in build-cmake/fuzz/ (crash-*), which `hdglue_fuzz_core <file>` replays.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = opt('--seconds', Number(process.env.HDGLUE_FUZZ_SECONDS ?? 10));
const seed = opt('--seed', 1);
const required = process.env.HDGLUE_REQUIRE_FUZZ === '1';
const dir = join(root, 'build-cmake', 'fuzz');

function missing(why) {
  if (required) {
    console.error(`fuzz: ${why}, and HDGLUE_REQUIRE_FUZZ=1 requires the fuzz run`);
    process.exit(1);
  }
  console.log(`NOTICE: fuzz run skipped: ${why} (apt-get install clang libclang-rt-dev)`);
  process.exit(77);
}

const clang = spawnSync('clang++', ['-print-file-name=libclang_rt.fuzzer-x86_64.a'], { encoding: 'utf8' });
if (clang.error || clang.status !== 0) missing('clang++ is not installed');
// Ask the compiler to link a fuzzer: the only reliable test that libFuzzer is installed.
const probe = spawnSync('clang++', ['-fsanitize=fuzzer', '-x', 'c++', '-', '-o', '/dev/null'], {
  input: 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n',
  encoding: 'utf8',
});
if (probe.status !== 0) missing('clang++ cannot link libFuzzer (-fsanitize=fuzzer)');

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
run('cmake', ['--preset', 'fuzz']);
run('cmake', ['--build', '--preset', 'fuzz']);

// Generated seeds, the same every run: libFuzzer then starts from inputs long enough to reach
// every operation with real data instead of growing them a byte at a time.
const seeds = join(dir, 'seeds');
const corpus = join(dir, 'corpus');
mkdirSync(corpus, { recursive: true });
if (!existsSync(seeds)) {
  mkdirSync(seeds, { recursive: true });
  let s = 0x9e3779b9;
  const next = () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s;
  };
  for (let i = 0; i < 256; i++) {
    const bytes = Buffer.alloc(16 + (next() % 1024));
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    // The operation is chosen by the last bytes (FuzzedDataProvider reads integers from the end).
    bytes[bytes.length - 1] = i % 13;
    writeFileSync(join(seeds, `seed-${i}`), bytes);
  }
}

const t0 = Date.now();
const r = spawnSync(
  join(dir, 'hdglue_fuzz_core'),
  [
    `-max_total_time=${seconds}`,
    `-seed=${seed}`,
    '-max_len=4096',
    '-len_control=20',
    '-timeout=20',
    '-rss_limit_mb=2048',
    '-malloc_limit_mb=256',
    '-print_final_stats=1',
    corpus,
    seeds,
  ],
  { cwd: dir, encoding: 'utf8', env: { ...process.env, UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' } },
);
const log = `${r.stdout}${r.stderr}`;
const runs = Number(/stat::number_of_executed_units:\s*(\d+)/.exec(log)?.[1] ?? Number.NaN);
const cov = /cov: (\d+) ft: (\d+)/g;
let last;
for (let m = cov.exec(log); m; m = cov.exec(log)) last = m;
const crashes = readdirSync(dir).filter((f) => /^(crash|leak|timeout|oom)-/.test(f));
if (r.status !== 0) console.error(log.slice(-6000));
console.log(
  `fuzz: ${runs} inputs in ${((Date.now() - t0) / 1000).toFixed(0)} s, coverage ${last?.[1] ?? '?'} edges / ${last?.[2] ?? '?'} features, ` +
    `corpus ${readdirSync(corpus).length} inputs, ${crashes.length} crash files, exit ${r.status}`,
);
process.exit(r.status === 0 ? 0 : 1);
