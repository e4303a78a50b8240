#!/usr/bin/env node
// Check a shipped addon binary against the promise of docs/INSTALL.md: it runs on every CPU of
// its architecture and on old enough Linux distributions.
//
//   node scripts/check-binary.mjs --arch x64|arm64 --binary prebuilds/linux-x64/hdglue.glibc.node \
//     --unstripped <same link before strip> --objects <node-gyp obj.target/hdglue folder> [--json out.json]
//
// 1. The stripped binary has no symbols, so the instructions are attributed with the unstripped
//    file of the same link; its executable sections must be byte-identical to the shipped ones.
// 2. x64: no VEX/EVEX/XOP-encoded instruction (every AVX, AVX-512 and BMI instruction, so every
//    ymm/zmm/k register use) and no post-SSE2 instruction (SSE3/SSSE3/SSE4, POPCNT, LZCNT, TZCNT,
//    MOVBE, CMPXCHG16B) outside the functions of the kernel files (native/sources.json "x64").
//    Kernel functions are the local functions under those files' FILE symbols plus the global
//    (non-weak) functions those object files define, which the link turns into nameless-file
//    locals since they are hidden. A weak (COMDAT) function is never a kernel
//    function: the linker may keep the kernel file's copy of an inline function for every caller,
//    which is how an AVX instruction leaks into code that runs before dispatch.
//    arm64: no SVE instruction anywhere; LSE atomics only in libgcc's outline-atomics helpers,
//    which test the CPU first; NEON is the armv8-a baseline.
//    The check must also find the wide instructions inside the kernels, or it fails: a
//    disassembly this script misreads would otherwise pass by finding nothing.
// 3. The glibc / libstdc++ symbol versions required, against the limits below.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';

// Oldest runtime the binaries promise (docs/INSTALL.md): glibc 2.28 and GCC 8's libstdc++, i.e.
// Debian 10, Ubuntu 18.10, RHEL/Rocky 8.
const LIMITS = { GLIBC: '2.28', GLIBCXX: '3.4.25', CXXABI: '1.3.11' };

const { values: opt } = parseArgs({
  options: {
    arch: { type: 'string' },
    binary: { type: 'string' },
    unstripped: { type: 'string' },
    objects: { type: 'string' },
    json: { type: 'string' },
  },
});
for (const k of ['arch', 'binary', 'unstripped', 'objects']) {
  if (!opt[k]) {
    console.error(`check-binary: --${k} is required`);
    process.exit(2);
  }
}
const arch = opt.arch;
if (arch !== 'x64' && arch !== 'arm64') {
  console.error(`check-binary: --arch must be x64 or arm64, not ${arch}`);
  process.exit(2);
}

const root = join(import.meta.dirname, '..');
const sources = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8'));
const kernelFiles = new Set(sources[arch].map((f) => basename(f)));
// binutils' objdump and objcopy are built for one target; readelf reads every ELF.
const hostArch = process.arch;
const prefix = arch === hostArch ? '' : { x64: 'x86_64-linux-gnu-', arm64: 'aarch64-linux-gnu-' }[arch];
const tool = (name) => `${prefix}${name}`;
const run = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });

const failures = [];
const fail = (msg) => failures.push(msg);

// --- the ELF header: right machine ---------------------------------------------------------------
const machine = /Machine:\s+(.*)/.exec(run('readelf', ['-hW', opt.binary]))?.[1].trim() ?? '?';
const wantMachine = arch === 'x64' ? /X86-64/ : /AArch64/;
if (!wantMachine.test(machine)) fail(`ELF machine is "${machine}", expected ${wantMachine}`);

// --- 1. the unstripped file is the same code ---------------------------------------------------
function execSections(file) {
  const out = run('readelf', ['-SW', file]);
  const names = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+(\S*)/.exec(line);
    if (m?.[2].includes('X')) names.push(m[1]);
  }
  return names;
}
const sections = execSections(opt.binary);
const scratch = mkdtempSync(join(tmpdir(), 'hdglue-check-'));
for (const s of sections) {
  const dump = (file) => {
    const tmp = join(scratch, 'section');
    execFileSync(tool('objcopy'), ['-O', 'binary', `--only-section=${s}`, file, tmp]);
    return readFileSync(tmp);
  };
  if (!dump(opt.binary).equals(dump(opt.unstripped))) {
    fail(`section ${s} differs between ${opt.binary} and ${opt.unstripped}: not the same link`);
  }
}
rmSync(scratch, { recursive: true, force: true });
if (sections.length === 0) fail('no executable section found');

// --- 2. which function is a kernel function ------------------------------------------------------
function symbols(file) {
  const funcs = [];
  let file_ = null;
  for (const line of run('readelf', ['-sW', file]).split('\n')) {
    const f = line.trim().split(/\s+/);
    // Num: Value Size Type Bind Vis Ndx Name
    if (f.length < 7 || !/^\d+:$/.test(f[0])) continue;
    const [, value, size, type, bind, , ndx, name = ''] = f;
    if (type === 'FILE') file_ = name;
    if (type !== 'FUNC' || ndx === 'UND') continue;
    funcs.push({ addr: BigInt(`0x${value}`), size: BigInt(size), bind, name, file: bind === 'LOCAL' ? file_ : null });
  }
  return funcs;
}
const kernelGlobals = new Map(); // name -> kernel file
const kernelWeak = new Set();
for (const k of kernelFiles) {
  const obj = join(opt.objects, 'native', 'kernels', k.replace(/\.cc$/, '.o'));
  for (const s of symbols(obj)) {
    if (s.bind === 'GLOBAL') kernelGlobals.set(s.name, k);
    if (s.bind === 'WEAK') kernelWeak.add(s.name);
  }
}
const funcs = symbols(opt.unstripped)
  .filter((s) => s.size > 0n)
  .map((s) => ({
    ...s,
    // The linker turns hidden globals into locals listed under an empty FILE entry: those are
    // known by name, every other local by the FILE entry it follows.
    kernel: s.file ? kernelFiles.has(s.file) : s.bind !== 'WEAK' && kernelGlobals.has(s.name),
    file: s.file || kernelGlobals.get(s.name) || s.file,
  }))
  .sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
if (!funcs.some((f) => f.kernel)) fail(`no function of ${[...kernelFiles].join(', ')} found in the symbol table`);

function owner(addr) {
  let lo = 0;
  let hi = funcs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = funcs[mid];
    if (addr < f.addr) hi = mid - 1;
    else if (addr >= f.addr + f.size) lo = mid + 1;
    else return f;
  }
  return null;
}

// --- instruction classes -------------------------------------------------------------------------
const LEGACY_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x67]);
// Non-VEX instructions above the x86-64 baseline (SSE2): SSE3, SSSE3, SSE4.1, SSE4.2 and the
// scalar extensions GCC emits when a target attribute allows them.
const X64_EXTENDED = new Set(
  (
    'addsubpd addsubps haddpd haddps hsubpd hsubps lddqu movddup movshdup movsldup fisttp monitor mwait ' +
    'pabsb pabsw pabsd palignr phaddw phaddd phaddsw phsubw phsubd phsubsw pmaddubsw pmulhrsw pshufb psignb psignw psignd ' +
    'blendpd blendps blendvpd blendvps dppd dpps extractps insertps movntdqa mpsadbw packusdw pblendvb pblendw pcmpeqq ' +
    'pextrb pextrd pextrq phminposuw pinsrb pinsrd pinsrq pmaxsb pmaxsd pmaxud pmaxuw pminsb pminsd pminud pminuw ' +
    'pmovsxbw pmovsxbd pmovsxbq pmovsxwd pmovsxwq pmovsxdq pmovzxbw pmovzxbd pmovzxbq pmovzxwd pmovzxwq pmovzxdq ' +
    'pmuldq pmulld ptest roundpd roundps roundsd roundss pcmpestri pcmpestrm pcmpistri pcmpistrm pcmpgtq crc32 ' +
    'popcnt lzcnt movbe adcx adox cmpxchg16b'
  ).split(' '),
);
// TZCNT is absent from the list on purpose: its encoding is REP BSF, which CPUs without BMI1 run
// as BSF, and GCC emits it at the baseline for __builtin_ctz, whose zero case is undefined.
// LZCNT has no such fallback (REP BSR gives the bit index, not the count) and stays listed.
const ARM_LSE =
  /^(cas|casp|swp|ld(add|clr|eor|set|smax|smin|umax|umin)|st(add|clr|eor|set|smax|smin|umax|umin))(a|l|al)?(b|h)?$/;
const ARM_SVE = /(^|[\s,{[])(z\d{1,2}\.[bhsdq]|p\d{1,2}\/[zm]|z\d{1,2}\b)/;
const ARM_NEON = /\bv\d{1,2}\.(16b|8b|8h|4h|4s|2s|2d)\b/;

/** What is wrong with one instruction outside a kernel, or null. */
function classify(bytes, mnemonic, operands) {
  if (arch === 'x64') {
    let i = 0;
    while (i < bytes.length && LEGACY_PREFIXES.has(bytes[i])) i++;
    const b = bytes[i];
    // In 64-bit mode C4/C5 (LES/LDS) and 62 (BOUND) are invalid, so they always start VEX/EVEX;
    // 8F is XOP when its ModRM reg field is non-zero (POP r/m has reg 0).
    if (b === 0xc4 || b === 0xc5) return 'VEX';
    if (b === 0x62) return 'EVEX';
    if (b === 0x8f && i + 1 < bytes.length && (bytes[i + 1] >> 3) & 7) return 'XOP';
    if (X64_EXTENDED.has(mnemonic)) return 'post-SSE2';
    return null;
  }
  if (ARM_SVE.test(operands)) return 'SVE';
  if (ARM_LSE.test(mnemonic)) return 'LSE';
  return null;
}

const leaks = new Map(); // function name -> { reason: count }
const inKernels = new Map(); // kernel file -> count of wide instructions
let instructions = 0;
const dis = run(tool('objdump'), ['-d', '-w', ...(arch === 'x64' ? ['-M', 'intel'] : []), opt.unstripped]);
for (const line of dis.split('\n')) {
  const m = /^\s+([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(\S+)\s*(.*)$/.exec(line);
  if (!m) continue;
  instructions++;
  const addr = BigInt(`0x${m[1]}`);
  // objdump prints prefixes like "rep", "lock", "bnd", "notrack" as separate words.
  let [mnemonic, ...rest] = `${m[3]} ${m[4]}`.trim().split(/\s+/);
  while (
    ['rep', 'repz', 'repe', 'repnz', 'repne', 'lock', 'bnd', 'notrack', 'data16', 'addr32', 'cs', 'ds'].includes(
      mnemonic,
    )
  ) {
    [mnemonic, ...rest] = rest;
  }
  const operands = rest.join(' ');
  const bytes = m[2].split(' ').map((h) => Number.parseInt(h, 16));
  const f = owner(addr);
  if (f?.kernel) {
    const wide = arch === 'x64' ? classify(bytes, mnemonic, operands) !== null : ARM_NEON.test(operands);
    if (wide) inKernels.set(f.file, (inKernels.get(f.file) ?? 0) + 1);
    continue;
  }
  const why = classify(bytes, mnemonic, operands);
  if (!why) continue;
  // libgcc's outline atomics (__aarch64_ldadd4_acq_rel and friends) test for LSE at run time.
  if (why === 'LSE' && f?.name.startsWith('__aarch64_')) continue;
  const name = f
    ? `${f.name}${f.file ? ` (${f.file})` : ''}${kernelWeak.has(f.name) ? ' [weak, also in a kernel file]' : ''}`
    : `<no symbol> at 0x${m[1]}`;
  const seen = leaks.get(name) ?? {};
  seen[`${why} ${mnemonic}`] = (seen[`${why} ${mnemonic}`] ?? 0) + 1;
  leaks.set(name, seen);
}
if (instructions < 1000) fail(`only ${instructions} instructions disassembled: objdump output not understood`);
for (const [name, what] of leaks)
  fail(`non-baseline instructions outside the kernels in ${name}: ${JSON.stringify(what)}`);
// Wide instructions found inside each kernel file's functions: the check saw what it looks for.
const wideTotal = [...inKernels.values()].reduce((a, b) => a + b, 0);
for (const k of kernelFiles) {
  if (!inKernels.get(k))
    fail(`no ${arch === 'x64' ? 'VEX/EVEX' : 'NEON'} instruction found in ${k}: the disassembly is not understood`);
}

// --- 3. symbol versions --------------------------------------------------------------------------
const cmpVersion = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++)
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};
const needed = [...run('readelf', ['-dW', opt.binary]).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map(
  (m) => m[1],
);
const bySymbol = {}; // family -> version -> [symbols]
for (const line of run('readelf', ['--dyn-syms', '-W', opt.binary]).split('\n')) {
  const m = /\sUND\s+(\S+)@(GLIBC|GLIBCXX|CXXABI|GCC)_([\d.]+)/.exec(line);
  if (!m) continue;
  const [, sym, family, version] = m;
  bySymbol[family] ??= {};
  bySymbol[family][version] ??= [];
  bySymbol[family][version].push(sym);
}
const versions = {};
for (const [family, byVersion] of Object.entries(bySymbol)) {
  const max = Object.keys(byVersion).sort(cmpVersion).pop();
  const demangled = run('c++filt', byVersion[max]).trim().split('\n');
  versions[family] = { max, symbols: demangled };
  if (LIMITS[family] && cmpVersion(max, LIMITS[family]) > 0) {
    fail(`needs ${family}_${max} (limit ${LIMITS[family]}) for: ${demangled.join(', ')}`);
  }
}
if (!versions.GLIBC) fail('no GLIBC symbol version found: the dynamic symbol table was not understood');

const report = {
  binary: opt.binary,
  arch,
  machine,
  bytes: statSync(opt.binary).size,
  needed,
  versions,
  instructions,
  kernelFunctions: funcs.filter((f) => f.kernel).length,
  wideInstructionsInKernels: Object.fromEntries(inKernels),
  failures,
};
if (opt.json) writeFileSync(opt.json, `${JSON.stringify(report, null, 2)}\n`);

console.log(`check-binary: ${opt.binary} (${machine}, ${report.bytes} bytes)`);
console.log(`  needs: ${needed.join(', ')}`);
for (const [family, v] of Object.entries(versions)) {
  console.log(
    `  ${family}_${v.max} at most (${v.symbols.slice(0, 4).join(', ')}${v.symbols.length > 4 ? ', ...' : ''})`,
  );
}
console.log(
  `  ${instructions} instructions; ${report.kernelFunctions} kernel functions hold ${wideTotal} ${arch === 'x64' ? 'VEX/EVEX' : 'NEON'} instructions; ` +
    `${leaks.size} functions outside the kernels use non-baseline instructions`,
);
for (const f of failures) console.log(`  FAIL: ${f}`);
console.log(`check-binary: ${failures.length ? 'FAILED' : 'ok'}`);
process.exit(failures.length ? 1 : 0);
