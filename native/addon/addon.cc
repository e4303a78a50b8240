// N-API binding of the hdglue core. Only argument checking, zero-copy views and async plumbing
// live here; every computation is a call into the C ABI (native/include/hdglue.h). Inputs are
// read in place from TypedArrays, outputs are caller-provided, nothing is allocated for the
// caller, and no external ArrayBuffers are created (Electron forbids them).
#include <napi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <stdexcept>
#include <vector>

#include "args.h"
#include "codes.h"
#include "hdglue.h"
#include "worker.h"

namespace hdg_addon {
namespace {

using Work = Job;

// Per-environment state (worker threads each get their own); the kernel table itself is
// immutable and shared.
struct Instance {
  const hdg_kernels_t* kt;
  hdg_isa_t isa;
  unsigned threads;
};

const hdg_kernels_t* kernels(Napi::Env env) { return env.GetInstanceData<Instance>()->kt; }

unsigned threads(Napi::Env env) { return env.GetInstanceData<Instance>()->threads; }

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", hdg_isa_name(info.Env().GetInstanceData<Instance>()->isa));
  o.Set("detected", hdg_isa_name(hdg_detect_isa()));
  Napi::Array levels = Napi::Array::New(env);
  uint32_t n = 0;
  for (hdg_isa_t l : {HDG_ISA_SCALAR, HDG_ISA_NEON, HDG_ISA_AVX2, HDG_ISA_AVX512})
    if (hdg_kernels_for(l)) levels.Set(n++, hdg_isa_name(l));
  o.Set("available", levels);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("threads", info.Env().GetInstanceData<Instance>()->threads);
  return o;
}

// Switch this environment to another level the CPU supports. For benchmarks and tests that
// compare levels in one process; never exposed by the package's public API.
Napi::Value UseIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw_type(env, "level must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  int lvl = hdg_isa_parse(name.c_str());
  const hdg_kernels_t* kt = lvl < 0 ? nullptr : hdg_kernels_for((hdg_isa_t)lvl);
  if (!kt) throw_range(env, code::kOutOfRange, "level " + name + " is not available on this CPU");
  Instance* inst = env.GetInstanceData<Instance>();
  inst->kt = kt;
  inst->isa = (hdg_isa_t)lvl;
  return env.Undefined();
}

// Threads for the large scans of this environment (1 = the calling thread only); internal, for
// benchmarks that measure one core and all of them in one process.
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  size_t t = count(info, 0, "threads", 64);
  if (t == 0) throw_range(info.Env(), code::kOutOfRange, "threads must be in [1, 64]");
  info.Env().GetInstanceData<Instance>()->threads = (unsigned)t;
  return info.Env().Undefined();
}

Napi::Value RandomHV(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBigInt()) throw_type(env, "seed must be a bigint");
  bool lossless = false;
  uint64_t seed = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw_range(env, code::kOutOfRange, "seed must be in [0, 2^64)");
  auto name = typed<uint8_t>(info, 1, "name");
  uint32_t dim = dimension(info, 2);
  auto out = typed<uint32_t>(info, 3, "out");
  need_rows(info, out.ElementLength(), 1, hdg_words(dim), "out");
  hdg_random_hv(seed, name.Data(), name.ElementLength(), dim, reinterpret_cast<uint64_t*>(out.Data()));
  return env.Undefined();
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  auto a = typed<uint32_t>(info, 0, "a");
  auto b = typed<uint32_t>(info, 1, "b");
  size_t stride = count(info, 2, "bStride", 1);
  size_t n = count(info, 3, "n");
  size_t words = words_arg(info, 4);
  auto out = typed<uint32_t>(info, 5, "out");
  need_rows(info, a.ElementLength(), n, words, "a");
  need_rows(info, b.ElementLength(), stride ? n : (n ? 1 : 0), words, "b");
  need_rows(info, out.ElementLength(), n, words, "out");
  no_overlap(info, out, {a, b}, "out");
  kernels(info.Env())->bind(reinterpret_cast<const uint64_t*>(a.Data()), reinterpret_cast<const uint64_t*>(b.Data()),
                            (int)stride, n, words, reinterpret_cast<uint64_t*>(out.Data()));
  return info.Env().Undefined();
}

Work PrepHamming1xN(const Napi::CallbackInfo& info) {
  auto q = typed<uint32_t>(info, 0, "query");
  auto batch = typed<uint32_t>(info, 1, "batch");
  size_t n = count(info, 2, "n");
  size_t words = words_arg(info, 3);
  auto out = typed<uint32_t>(info, 4, "out");
  need_rows(info, q.ElementLength(), 1, words, "query");
  need_rows(info, batch.ElementLength(), n, words, "batch");
  need_len(info, out.ElementLength(), n, 1, "out");
  no_overlap(info, out, {q, batch}, "out");
  const hdg_kernels_t* kt = kernels(info.Env());
  unsigned t = threads(info.Env());
  const uint64_t* qp = reinterpret_cast<const uint64_t*>(q.Data());
  const uint64_t* bp = reinterpret_cast<const uint64_t*>(batch.Data());
  uint32_t* op = out.Data();
  return [=] {
    hdg_hamming_1xn_mt(kt, qp, bp, n, words, op, t);
    return NAN;
  };
}

Work PrepHammingMxN(const Napi::CallbackInfo& info) {
  auto a = typed<uint32_t>(info, 0, "a");
  size_t m = count(info, 1, "m");
  auto b = typed<uint32_t>(info, 2, "b");
  size_t n = count(info, 3, "n");
  size_t words = words_arg(info, 4);
  auto out = typed<uint32_t>(info, 5, "out");
  need_rows(info, a.ElementLength(), m, words, "a");
  need_rows(info, b.ElementLength(), n, words, "b");
  if (n && m > out.ElementLength() / n) throw_range(info.Env(), code::kShape, "out is too short");
  no_overlap(info, out, {a, b}, "out");
  const hdg_kernels_t* kt = kernels(info.Env());
  unsigned t = threads(info.Env());
  const uint64_t* ap = reinterpret_cast<const uint64_t*>(a.Data());
  const uint64_t* bp = reinterpret_cast<const uint64_t*>(b.Data());
  uint32_t* op = out.Data();
  return [=] {
    hdg_hamming_mxn_mt(kt, ap, m, bp, n, words, op, t);
    return NAN;
  };
}

Work PrepTopK(const Napi::CallbackInfo& info) {
  auto q = typed<uint32_t>(info, 0, "queries");
  size_t m = count(info, 1, "m");
  auto batch = typed<uint32_t>(info, 2, "batch");
  size_t n = count(info, 3, "n");
  size_t words = words_arg(info, 4);
  size_t k = count(info, 5, "k");
  auto idx = typed<uint32_t>(info, 6, "outIdx");
  auto dist = typed<uint32_t>(info, 7, "outDist");
  if (k > n) throw_range(info.Env(), code::kOutOfRange, "k must not exceed the batch count");
  need_rows(info, q.ElementLength(), m, words, "queries");
  need_rows(info, batch.ElementLength(), n, words, "batch");
  need_len(info, idx.ElementLength(), m, k, "outIdx");
  need_len(info, dist.ElementLength(), m, k, "outDist");
  if (overlaps(idx, dist)) throw_range(info.Env(), code::kShape, "outIdx and outDist must not overlap");
  no_overlap(info, idx, {q, batch}, "outIdx");
  no_overlap(info, dist, {q, batch}, "outDist");
  const hdg_kernels_t* kt = kernels(info.Env());
  const uint64_t* qp = reinterpret_cast<const uint64_t*>(q.Data());
  const uint64_t* bp = reinterpret_cast<const uint64_t*>(batch.Data());
  uint32_t* ip = idx.Data();
  uint32_t* dp = dist.Data();
  unsigned t = threads(info.Env());
  return [=] {
    hdg_topk_mt(kt, qp, m, bp, n, words, k, ip, dp, t);
    return NAN;
  };
}

Work PrepBundle(const Napi::CallbackInfo& info) {
  auto batch = typed<uint32_t>(info, 0, "batch");
  size_t k = count(info, 1, "k");
  size_t words = words_arg(info, 2);
  auto tie = optional_typed<uint32_t>(info, 3, "tie", 2 * words);
  auto out = typed<uint32_t>(info, 4, "out");
  need_rows(info, batch.ElementLength(), k, words, "batch");
  need_rows(info, out.ElementLength(), 1, words, "out");
  no_overlap(info, out, {batch, tie}, "out");
  const hdg_kernels_t* kt = kernels(info.Env());
  const uint64_t* bp = reinterpret_cast<const uint64_t*>(batch.Data());
  const uint64_t* tp = reinterpret_cast<const uint64_t*>(tie.data);
  uint64_t* op = reinterpret_cast<uint64_t*>(out.Data());
  return [=] {
    kt->bundle(bp, k, words, tp, op);
    return NAN;
  };
}

Napi::Value BundleWeighted(const Napi::CallbackInfo& info) {
  auto batch = typed<uint32_t>(info, 0, "batch");
  size_t k = count(info, 1, "k");
  uint32_t dim = dimension(info, 2);
  auto weights = typed<int32_t>(info, 3, "weights");
  size_t words = hdg_words(dim);
  auto tie = optional_typed<uint32_t>(info, 4, "tie", 2 * words);
  auto out = typed<uint32_t>(info, 5, "out");
  need_rows(info, batch.ElementLength(), k, words, "batch");
  need_len(info, weights.ElementLength(), k, 1, "weights");
  need_rows(info, out.ElementLength(), 1, words, "out");
  no_overlap(info, out, {batch, weights, tie}, "out");
  std::vector<int32_t> scratch(dim);
  hdg_bundle_weighted(kernels(info.Env()), reinterpret_cast<const uint64_t*>(batch.Data()), k, dim, weights.Data(),
                      reinterpret_cast<const uint64_t*>(tie.data), scratch.data(), reinterpret_cast<uint64_t*>(out.Data()));
  return info.Env().Undefined();
}

Work PrepAccAdd(const Napi::CallbackInfo& info) {
  auto counters = typed<int32_t>(info, 0, "counters");
  uint32_t dim = dimension(info, 1);
  auto batch = typed<uint32_t>(info, 2, "batch");
  size_t n = count(info, 3, "n");
  auto weights = optional_typed<int32_t>(info, 4, "weights", n);
  need_len(info, counters.ElementLength(), 1, dim, "counters");
  need_rows(info, batch.ElementLength(), n, hdg_words(dim), "batch");
  no_overlap(info, counters, {batch, weights}, "counters");
  const hdg_kernels_t* kt = kernels(info.Env());
  int32_t* cp = counters.Data();
  const uint64_t* bp = reinterpret_cast<const uint64_t*>(batch.Data());
  const int32_t* w = weights.data;
  return [=] {
    kt->acc_add(cp, dim, bp, n, w);
    return NAN;
  };
}

Napi::Value Threshold(const Napi::CallbackInfo& info) {
  auto counters = typed<int32_t>(info, 0, "counters");
  size_t m = count(info, 1, "m");
  uint32_t dim = dimension(info, 2);
  size_t words = hdg_words(dim);
  auto tie = optional_typed<uint32_t>(info, 3, "tie", 2 * words);
  auto out = typed<uint32_t>(info, 4, "out");
  need_len(info, counters.ElementLength(), m, dim, "counters");
  need_rows(info, out.ElementLength(), m, words, "out");
  no_overlap(info, out, {counters, tie}, "out");
  kernels(info.Env())->threshold(counters.Data(), m, dim, reinterpret_cast<const uint64_t*>(tie.data),
                                 reinterpret_cast<uint64_t*>(out.Data()));
  return info.Env().Undefined();
}

Work PrepDotCounters(const Napi::CallbackInfo& info) {
  auto hvs = typed<uint32_t>(info, 0, "hvs");
  size_t n = count(info, 1, "n");
  auto counters = typed<int32_t>(info, 2, "counters");
  size_t m = count(info, 3, "m");
  uint32_t dim = dimension(info, 4);
  auto out = typed<double>(info, 5, "out");
  need_rows(info, hvs.ElementLength(), n, hdg_words(dim), "hvs");
  need_len(info, counters.ElementLength(), m, dim, "counters");
  if (m && n > out.ElementLength() / m) throw_range(info.Env(), code::kShape, "out is too short");
  no_overlap(info, out, {hvs, counters}, "out");
  const hdg_kernels_t* kt = kernels(info.Env());
  const uint64_t* hp = reinterpret_cast<const uint64_t*>(hvs.Data());
  const int32_t* cp = counters.Data();
  double* op = out.Data();
  return [=] {
    // Float64Array storage is 8-byte aligned and 8 bytes per entry: the exact int64 results are
    // written in place, then converted entry by entry, with no temporary buffer.
    int64_t* ip = reinterpret_cast<int64_t*>(op);
    kt->dot_counters(hp, n, cp, m, dim, ip);
    for (size_t i = 0; i < n * m; i++) {
      int64_t v;
      std::memcpy(&v, ip + i, 8);
      double d = (double)v;
      std::memcpy(op + i, &d, 8);
    }
    return NAN;
  };
}

// Writes n exact int64 results, already in `out`'s storage, back as doubles in place (a
// Float64Array's storage is 8-byte aligned and 8 bytes per entry).
void int64_to_double(double* out, size_t n) {
  int64_t* ip = reinterpret_cast<int64_t*>(out);
  for (size_t i = 0; i < n; i++) {
    int64_t v;
    std::memcpy(&v, ip + i, 8);
    double d = (double)v;
    std::memcpy(out + i, &d, 8);
  }
}

Napi::Value DotsOne(const Napi::CallbackInfo& info) {
  auto hv = typed<uint32_t>(info, 0, "hv");
  auto counters = typed<int32_t>(info, 1, "counters");
  size_t m = count(info, 2, "m");
  uint32_t dim = dimension(info, 3);
  auto out = typed<double>(info, 4, "out");
  need_rows(info, hv.ElementLength(), 1, hdg_words(dim), "hv");
  need_len(info, counters.ElementLength(), m, dim, "counters");
  need_len(info, out.ElementLength(), m, 1, "out");
  no_overlap(info, out, {hv, counters}, "out");
  const hdg_kernels_t* kt = kernels(info.Env());
  const uint64_t* hp = reinterpret_cast<const uint64_t*>(hv.Data());
  const int32_t* cp = counters.Data();
  int64_t* ip = reinterpret_cast<int64_t*>(out.Data());
  // dots_one wants every counter inside (-2^24, 2^24); any other input takes the general kernel.
  bool small = true;
  for (size_t i = 0; i < m * dim && small; i++) small = cp[i] > -HDG_DOTS_ONE_LIMIT && cp[i] < HDG_DOTS_ONE_LIMIT;
  if (small) kt->dots_one(hp, cp, m, dim, ip);
  else kt->dot_counters(hp, 1, cp, m, dim, ip);
  int64_to_double(out.Data(), m);
  return info.Env().Undefined();
}

Napi::Value RowAdd(const Napi::CallbackInfo& info) {
  auto counters = typed<int32_t>(info, 0, "counters");
  uint32_t dim = dimension(info, 1);
  auto hv = typed<uint32_t>(info, 2, "hv");
  if (!info[3].IsNumber()) throw_type(info.Env(), "w must be a number");
  double w = info[3].As<Napi::Number>().DoubleValue();
  if (w != 1 && w != -1) throw_range(info.Env(), code::kOutOfRange, "w must be 1 or -1");
  need_len(info, counters.ElementLength(), 1, dim, "counters");
  need_rows(info, hv.ElementLength(), 1, hdg_words(dim), "hv");
  no_overlap(info, counters, {hv}, "counters");
  kernels(info.Env())->row_add(counters.Data(), dim, reinterpret_cast<const uint64_t*>(hv.Data()), (int32_t)w);
  return info.Env().Undefined();
}

// refineOnline(hvs, n, dim, truth, order, count, counters, m, norms2, margin, adapt, stats):
// one online epoch (hdg_refine_online); stats[0] += errors, stats[1] += updates. Every class index
// and row index is checked here, before anything is read through them.
Work PrepRefineOnline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto hvs = typed<uint32_t>(info, 0, "hvs");
  size_t n = count(info, 1, "n");
  uint32_t dim = dimension(info, 2);
  auto truth = typed<int32_t>(info, 3, "truth");
  auto order = typed<uint32_t>(info, 4, "order");
  size_t cnt = count(info, 5, "count");
  auto counters = typed<int32_t>(info, 6, "counters");
  size_t m = count(info, 7, "m");
  auto norms2 = typed<double>(info, 8, "norms2");
  if (!info[9].IsNumber()) throw_type(env, "margin must be a number");
  double margin = info[9].As<Napi::Number>().DoubleValue();
  if (margin != margin) throw_range(env, code::kOutOfRange, "margin must not be NaN");
  size_t adapt = count(info, 10, "adapt", 1);
  auto stats = typed<double>(info, 11, "stats");
  need_rows(info, hvs.ElementLength(), n, hdg_words(dim), "hvs");
  need_len(info, truth.ElementLength(), n, 1, "truth");
  need_len(info, order.ElementLength(), cnt, 1, "order");
  need_len(info, counters.ElementLength(), m, dim, "counters");
  need_len(info, norms2.ElementLength(), m, 1, "norms2");
  need_len(info, stats.ElementLength(), 2, 1, "stats");
  no_overlap(info, counters, {hvs, truth, order, norms2, stats}, "counters");
  no_overlap(info, norms2, {hvs, truth, order, stats}, "norms2");
  no_overlap(info, stats, {hvs, truth, order}, "stats");
  const int32_t* tp = truth.Data();
  const uint32_t* op = order.Data();
  for (size_t e = 0; e < cnt; e++)
    if (op[e] >= n)
      throw_range(env, code::kOutOfRange,
                  "order[" + std::to_string(e) + "] = " + std::to_string(op[e]) + " is not a row index below n = " +
                      std::to_string(n));
  for (size_t i = 0; i < n; i++)
    if (tp[i] < 0 || (size_t)tp[i] >= m)
      throw_range(env, code::kOutOfRange,
                  "truth[" + std::to_string(i) + "] = " + std::to_string(tp[i]) + " is not a class index below m = " +
                      std::to_string(m));
  const hdg_kernels_t* kt = kernels(env);
  const uint64_t* hp = reinterpret_cast<const uint64_t*>(hvs.Data());
  int32_t* cp = counters.Data();
  double* np = norms2.Data();
  double* sp = stats.Data();
  return [=] {
    uint64_t errors = 0, updates = 0;
    if (hdg_refine_online(kt, hp, n, dim, tp, op, cnt, cp, m, np, margin, (int)adapt, &errors, &updates) != 0)
      throw std::runtime_error("hdglue: out of memory in refineOnline");
    sp[0] += (double)errors;
    sp[1] += (double)updates;
    return NAN;
  };
}

Napi::Value Permute(const Napi::CallbackInfo& info) {
  auto in = typed<uint32_t>(info, 0, "input");
  size_t n = count(info, 1, "n");
  uint32_t dim = dimension(info, 2);
  if (!info[3].IsNumber()) throw_type(info.Env(), "k must be a number");
  double kd = info[3].As<Napi::Number>().DoubleValue();
  if (!(std::fabs(kd) <= 9007199254740991.0) || std::floor(kd) != kd)
    throw_range(info.Env(), code::kOutOfRange, "k must be a safe integer");
  auto out = typed<uint32_t>(info, 4, "out");
  size_t words = hdg_words(dim);
  need_rows(info, in.ElementLength(), n, words, "input");
  need_rows(info, out.ElementLength(), n, words, "out");
  no_overlap(info, out, {in}, "out");
  hdg_permute(reinterpret_cast<const uint64_t*>(in.Data()), n, dim, (int64_t)kd,
              reinterpret_cast<uint64_t*>(out.Data()));
  return info.Env().Undefined();
}

// The async encoders' copy of their input, shared by the copies of one job. A job is copied and
// destroyed only on the main thread (run_async moves it into the worker, which is destroyed after
// OnOK / OnError there; Execute only calls it), so a plain counter is enough. std::shared_ptr or a
// copyable std::vector would do, but with GCC 12 they pull in glibc 2.32's __libc_single_threaded
// and GLIBCXX_3.4.29's __throw_bad_array_new_length, raising the prebuilt binary's floor.
// GCC 12 cannot follow a reference count across inlined copies and warns -Wuse-after-free on
// the second release; the count is exact (the addon's tests run under ASan, scripts/test-asan-addon.mjs).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuse-after-free"
#endif
class OwnedCopy {
  struct Block {
    size_t refs;
    double* data;
  };
  Block* b_ = nullptr;
  void release() {
    Block* b = b_;
    b_ = nullptr;
    if (b && --b->refs == 0) {
      delete[] b->data;
      delete b;
    }
  }

 public:
  OwnedCopy() = default;
  OwnedCopy(const OwnedCopy& o) : b_(o.b_) {
    if (b_) b_->refs++;
  }
  OwnedCopy(OwnedCopy&& o) noexcept : b_(o.b_) { o.b_ = nullptr; }
  OwnedCopy& operator=(OwnedCopy o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~OwnedCopy() { release(); }
  // Room for `doubles` values; false when memory runs out.
  bool allocate(size_t doubles) {
    release();
    double* d = new (std::nothrow) double[doubles ? doubles : 1];
    if (!d) return false;
    b_ = new (std::nothrow) Block{1, d};
    if (!b_) {
      delete[] d;
      return false;
    }
    return true;
  }
  double* data() const { return b_ ? b_->data : nullptr; }
};
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// The embeddings argument of the encoders: Float32Array or Float64Array, at least n * features.
struct Floats {
  const void* data;
  bool f64;
  Span span;
  // The async encoders' private copy of the values (see own_copy); empty for the sync ones.
  OwnedCopy copy;
};

// The async encoders copy their input on the main thread before queueing. N-API cannot keep a
// backing store alive: a caller that transfers the buffer and lets the new owner be collected
// frees memory the worker would still read (a use-after-free that crashed the process in the
// reliability tests). The copy costs n * features values, small beside the encoding itself, and
// makes the encoders' reads immune to a caller's later writes too: they see the values of the
// moment of the call. The original stays pinned, so a detach is still reported.
void own_copy(const Napi::CallbackInfo& info, Floats& x, size_t n, size_t features) {
  size_t bytes = n * features * (x.f64 ? 8 : 4);
  if (!x.copy.allocate((bytes + 7) / 8)) {
    Napi::Error e = Napi::Error::New(info.Env(), "hdglue: out of memory while copying the embeddings");
    e.Set("code", Napi::String::New(info.Env(), code::kOutOfMemory));
    throw e;
  }
  if (bytes) std::memcpy(x.copy.data(), x.data, bytes);
  x.data = x.copy.data();
}

Floats floats(const Napi::CallbackInfo& info, size_t i, size_t n, size_t features) {
  Napi::Value v = info[i];
  bool f64 = v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array;
  Floats r{nullptr, f64, {}, {}};
  if (f64) {
    auto a = typed<double>(info, i, "embeddings");
    need_len(info, a.ElementLength(), n, features, "embeddings");
    r.data = a.Data();
    r.span = a;
  } else {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw_type(info.Env(), "embeddings must be a Float32Array or a Float64Array");
    auto a = typed<float>(info, i, "embeddings");
    need_len(info, a.ElementLength(), n, features, "embeddings");
    r.data = a.Data();
    r.span = a;
  }
  return r;
}

// Turns an encoder status into the job result: -1 when done, else the index of the first
// non-finite value, which lib/ formats into an error naming the row and the feature.
double encoder_result(hdg_status_t st, size_t bad) {
  if (st < 0) throw std::runtime_error("hdglue: out of memory while encoding");
  return st == 1 ? (double)bad : -1.0;
}

template <bool Own>
Work PrepEncodeLevels(const Napi::CallbackInfo& info) {
  size_t n = count(info, 1, "n");
  size_t features = count(info, 2, "features", 65536);
  if (features == 0) throw_range(info.Env(), code::kOutOfRange, "features must be at least 1");
  Floats x = floats(info, 0, n, features);
  auto lo = typed<double>(info, 3, "lo");
  auto hi = typed<double>(info, 4, "hi");
  size_t bins = count(info, 5, "bins", 65536);
  if (bins == 0) throw_range(info.Env(), code::kOutOfRange, "bins must be at least 1");
  auto levels = typed<uint32_t>(info, 6, "levels");
  size_t nlevels = count(info, 7, "levelCount", 65536);
  auto positions = typed<uint32_t>(info, 8, "positions");
  uint32_t dim = dimension(info, 9);
  size_t words = hdg_words(dim);
  auto tie = optional_typed<uint32_t>(info, 10, "tie", 2 * words);
  auto out = typed<uint32_t>(info, 11, "out");
  if (nlevels < bins) throw_range(info.Env(), code::kShape, "the level codebook has fewer rows than bins");
  need_len(info, lo.ElementLength(), 1, features, "lo");
  need_len(info, hi.ElementLength(), 1, features, "hi");
  need_rows(info, levels.ElementLength(), nlevels, words, "levels");
  need_rows(info, positions.ElementLength(), features, words, "positions");
  need_rows(info, out.ElementLength(), n, words, "out");
  no_overlap(info, out, {x.span, lo, hi, levels, positions, tie}, "out");
  if (Own) own_copy(info, x, n, features);
  const hdg_kernels_t* kt = kernels(info.Env());
  unsigned t = threads(info.Env());
  const void* xp = x.data;
  bool f64 = x.f64;
  const double* lp = lo.Data();
  const double* hp = hi.Data();
  const uint64_t* lv = reinterpret_cast<const uint64_t*>(levels.Data());
  const uint64_t* ps = reinterpret_cast<const uint64_t*>(positions.Data());
  const uint64_t* tp = reinterpret_cast<const uint64_t*>(tie.data);
  uint64_t* op = reinterpret_cast<uint64_t*>(out.Data());
  uint32_t b = (uint32_t)bins;
  OwnedCopy keep = x.copy;  // the job holds the copy that xp may point into
  return [=] {
    (void)keep;
    size_t bad = 0;
    hdg_status_t st = f64 ? hdg_encode_f64(kt, static_cast<const double*>(xp), n, features, lp, hp, b, lv, ps, dim, tp,
                                           op, t, &bad)
                          : hdg_encode_f32(kt, static_cast<const float*>(xp), n, features, lp, hp, b, lv, ps, dim, tp,
                                           op, t, &bad);
    return encoder_result(st, bad);
  };
}

template <bool Own>
Work PrepProject(const Napi::CallbackInfo& info) {
  size_t n = count(info, 1, "n");
  size_t features = count(info, 2, "features", 65536);
  if (features == 0) throw_range(info.Env(), code::kOutOfRange, "features must be at least 1");
  Floats x = floats(info, 0, n, features);
  auto mult = typed<double>(info, 3, "mult");
  auto proj = typed<uint32_t>(info, 4, "projection");
  uint32_t dim = dimension(info, 5);
  size_t words = hdg_words(dim);
  auto tie = optional_typed<uint32_t>(info, 6, "tie", 2 * words);
  auto out = typed<uint32_t>(info, 7, "out");
  need_len(info, mult.ElementLength(), 1, features, "mult");
  need_rows(info, proj.ElementLength(), features, words, "projection");
  need_rows(info, out.ElementLength(), n, words, "out");
  no_overlap(info, out, {x.span, mult, proj, tie}, "out");
  if (Own) own_copy(info, x, n, features);
  const hdg_kernels_t* kt = kernels(info.Env());
  unsigned t = threads(info.Env());
  const void* xp = x.data;
  bool f64 = x.f64;
  const double* mp = mult.Data();
  const uint64_t* pp = reinterpret_cast<const uint64_t*>(proj.Data());
  const uint64_t* tp = reinterpret_cast<const uint64_t*>(tie.data);
  uint64_t* op = reinterpret_cast<uint64_t*>(out.Data());
  OwnedCopy keep = x.copy;  // the job holds the copy that xp may point into
  return [=] {
    (void)keep;
    size_t bad = 0;
    hdg_status_t st = f64 ? hdg_project_f64(kt, static_cast<const double*>(xp), n, features, mp, pp, dim, tp, op, t, &bad)
                          : hdg_project_f32(kt, static_cast<const float*>(xp), n, features, mp, pp, dim, tp, op, t, &bad);
    return encoder_result(st, bad);
  };
}

// Exposed so the tests can compare the native binning with numpy's digitize and the TypeScript twin.
Napi::Value Bin(const Napi::CallbackInfo& info) {
  for (size_t i = 0; i < 3; i++)
    if (!info[i].IsNumber()) throw_type(info.Env(), "bin(value, lo, hi, bins) takes numbers");
  size_t bins = count(info, 3, "bins", 65536);
  if (bins == 0) throw_range(info.Env(), code::kOutOfRange, "bins must be at least 1");
  double v = info[0].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(v)) throw_range(info.Env(), code::kNotFinite, "value must be finite");
  return Napi::Number::New(info.Env(), hdg_bin(v, info[1].As<Napi::Number>().DoubleValue(),
                                               info[2].As<Napi::Number>().DoubleValue(), (uint32_t)bins));
}

template <Work (*Prep)(const Napi::CallbackInfo&)>
Napi::Value Sync(const Napi::CallbackInfo& info) {
  double r;
  try {
    r = Prep(info)();
  } catch (const std::runtime_error& e) {
    Napi::Error err = Napi::Error::New(info.Env(), e.what());
    err.Set("code", Napi::String::New(info.Env(), code::kOutOfMemory));
    throw err;
  }
  return r != r ? info.Env().Undefined() : Napi::Number::New(info.Env(), r);
}

template <Work (*Prep)(const Napi::CallbackInfo&)>
Napi::Value Async(const Napi::CallbackInfo& info) {
  return run_async(info, Prep(info));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new Instance{hdg_kernels(), hdg_active_isa(), hdg_default_threads()});
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("_useIsa", Napi::Function::New(env, UseIsa, "_useIsa"));
  exports.Set("_setThreads", Napi::Function::New(env, SetThreads, "_setThreads"));
  exports.Set("randomHV", Napi::Function::New(env, RandomHV, "randomHV"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("hamming1xN", Napi::Function::New(env, Sync<PrepHamming1xN>, "hamming1xN"));
  exports.Set("hamming1xNAsync", Napi::Function::New(env, Async<PrepHamming1xN>, "hamming1xNAsync"));
  exports.Set("hammingMxN", Napi::Function::New(env, Sync<PrepHammingMxN>, "hammingMxN"));
  exports.Set("hammingMxNAsync", Napi::Function::New(env, Async<PrepHammingMxN>, "hammingMxNAsync"));
  exports.Set("topK", Napi::Function::New(env, Sync<PrepTopK>, "topK"));
  exports.Set("topKAsync", Napi::Function::New(env, Async<PrepTopK>, "topKAsync"));
  exports.Set("bundle", Napi::Function::New(env, Sync<PrepBundle>, "bundle"));
  exports.Set("bundleAsync", Napi::Function::New(env, Async<PrepBundle>, "bundleAsync"));
  exports.Set("bundleWeighted", Napi::Function::New(env, BundleWeighted, "bundleWeighted"));
  exports.Set("accAdd", Napi::Function::New(env, Sync<PrepAccAdd>, "accAdd"));
  exports.Set("accAddAsync", Napi::Function::New(env, Async<PrepAccAdd>, "accAddAsync"));
  exports.Set("threshold", Napi::Function::New(env, Threshold, "threshold"));
  exports.Set("dotCounters", Napi::Function::New(env, Sync<PrepDotCounters>, "dotCounters"));
  exports.Set("dotCountersAsync", Napi::Function::New(env, Async<PrepDotCounters>, "dotCountersAsync"));
  exports.Set("permute", Napi::Function::New(env, Permute, "permute"));
  exports.Set("dotsOne", Napi::Function::New(env, DotsOne, "dotsOne"));
  exports.Set("rowAdd", Napi::Function::New(env, RowAdd, "rowAdd"));
  exports.Set("refineOnline", Napi::Function::New(env, Sync<PrepRefineOnline>, "refineOnline"));
  exports.Set("encodeLevels", Napi::Function::New(env, Sync<PrepEncodeLevels<false>>, "encodeLevels"));
  exports.Set("encodeLevelsAsync", Napi::Function::New(env, Async<PrepEncodeLevels<true>>, "encodeLevelsAsync"));
  exports.Set("project", Napi::Function::New(env, Sync<PrepProject<false>>, "project"));
  exports.Set("projectAsync", Napi::Function::New(env, Async<PrepProject<true>>, "projectAsync"));
  exports.Set("bin", Napi::Function::New(env, Bin, "bin"));
  return exports;
}

}  // namespace
}  // namespace hdg_addon

static Napi::Object InitHdglue(Napi::Env env, Napi::Object exports) { return hdg_addon::Init(env, exports); }

NODE_API_MODULE(hdglue, InitHdglue)
