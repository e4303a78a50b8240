// Argument checks at the N-API boundary: every type, length and shape is verified before any
// data pointer is read, and failures become TypeError / RangeError carrying a stable `code`
// (codes.h, generated from lib/errors.ts). lib/core/ops.ts validates first with identical messages;
// these checks are what keeps a direct caller of the raw addon from reading out of bounds.
#ifndef HDGLUE_ADDON_ARGS_H
#define HDGLUE_ADDON_ARGS_H

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "codes.h"
#include "hdglue.h"

namespace hdg_addon {

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) {
  Napi::Error e = Napi::TypeError::New(env, msg);
  e.Set("code", Napi::String::New(env, code::kInvalidType));
  throw e;
}

[[noreturn]] inline void throw_range(Napi::Env env, const char* code, const std::string& msg) {
  Napi::Error e = Napi::RangeError::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  throw e;
}

template <typename T>
struct ArrayKind;
template <>
struct ArrayKind<uint32_t> {
  static constexpr napi_typedarray_type type = napi_uint32_array;
  static constexpr const char* name = "Uint32Array";
};
template <>
struct ArrayKind<int32_t> {
  static constexpr napi_typedarray_type type = napi_int32_array;
  static constexpr const char* name = "Int32Array";
};
template <>
struct ArrayKind<uint8_t> {
  static constexpr napi_typedarray_type type = napi_uint8_array;
  static constexpr const char* name = "Uint8Array";
};
template <>
struct ArrayKind<float> {
  static constexpr napi_typedarray_type type = napi_float32_array;
  static constexpr const char* name = "Float32Array";
};
template <>
struct ArrayKind<double> {
  static constexpr napi_typedarray_type type = napi_float64_array;
  static constexpr const char* name = "Float64Array";
};

// A typed array argument seen through one napi_get_typedarray_info call: the element pointer
// (already offset by byteOffset), the element count and the byte span. Going through the
// node-addon-api wrappers instead costs one engine call per property, which dominated the
// overhead of small kernel calls.
struct Span {
  const void* p = nullptr;
  size_t bytes = 0;
};

template <typename T>
struct Typed : Span {
  T* data = nullptr;
  size_t len = 0;
  T* Data() const { return data; }
  size_t ElementLength() const { return len; }
};

template <typename T>
Typed<T> typed(const Napi::CallbackInfo& info, size_t i, const char* what) {
  napi_env env = info.Env();
  napi_value v = info[i];
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is)
    throw_type(info.Env(), std::string(what) + " must be a " + ArrayKind<T>::name);
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != ArrayKind<T>::type)
    throw_type(info.Env(), std::string(what) + " must be a " + ArrayKind<T>::name);
  Typed<T> t;
  t.data = static_cast<T*>(data);
  t.len = length;
  t.p = data;
  t.bytes = length * sizeof(T);
  return t;
}

// Null or undefined give an empty Typed (data == nullptr).
template <typename T>
Typed<T> optional_typed(const Napi::CallbackInfo& info, size_t i, const char* what, size_t need) {
  if (info[i].IsNull() || info[i].IsUndefined()) return Typed<T>();
  auto a = typed<T>(info, i, what);
  if (a.ElementLength() < need)
    throw_range(info.Env(), code::kShape, std::string(what) + " is too short");
  return a;
}

// Memory ranges, not buffers, are compared: two views of one buffer that do not intersect are fine.
inline bool overlaps(const Span& a, const Span& b) {
  uintptr_t a0 = (uintptr_t)a.p, b0 = (uintptr_t)b.p;
  return a.bytes && b.bytes && a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

// Outputs must not share memory with inputs: kernels read and write in blocks whose order
// differs between ISA levels and thread counts, so an overlap would make results depend on them.
inline void no_overlap(const Napi::CallbackInfo& info, const Span& out, std::initializer_list<Span> inputs,
                       const char* what) {
  for (const Span& in : inputs)
    if (overlaps(out, in))
      throw_range(info.Env(), code::kShape, std::string(what) + " must not overlap an input");
}

// A non-negative integer count or size no larger than `max`.
inline size_t count(const Napi::CallbackInfo& info, size_t i, const char* what, double max = 4294967295.0) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > max || std::floor(d) != d)
    throw_range(info.Env(), code::kOutOfRange, std::string(what) + " must be an integer in [0, " +
                                                           std::to_string((uint64_t)max) + "]");
  return (size_t)d;
}

inline uint32_t dimension(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), "dim must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1) || d > HDG_MAX_DIM || std::floor(d) != d)
    throw_range(info.Env(), code::kInvalidDim, "dim must be an integer in [1, 16777216]");
  return (uint32_t)d;
}

inline size_t words_arg(const Napi::CallbackInfo& info, size_t i) {
  size_t w = count(info, i, "words", (double)hdg_words(HDG_MAX_DIM));
  if (w == 0) throw_range(info.Env(), code::kInvalidDim, "words must be at least 1");
  return w;
}

// Rows of `words` 64-bit words in a Uint32Array: needs rows * words * 2 entries. Division keeps
// the check free of overflow for any row count.
inline void need_rows(const Napi::CallbackInfo& info, size_t length, size_t rows, size_t words, const char* what) {
  if (rows > length / (2 * words))
    throw_range(info.Env(), code::kShape, std::string(what) + " is too short for the given rows and words");
}

inline void need_len(const Napi::CallbackInfo& info, size_t length, size_t rows, size_t per_row, const char* what) {
  if (per_row != 0 && rows > length / per_row)
    throw_range(info.Env(), code::kShape, std::string(what) + " is too short");
}

}  // namespace hdg_addon

#endif
