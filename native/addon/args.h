// Argument checks at the N-API boundary: every type, length and shape is verified before any
// data pointer is read, and failures become TypeError / RangeError carrying a stable `code`
// (the same codes lib/errors.ts uses). lib/ops.ts validates first with identical messages;
// these checks are what keeps a direct caller of the raw addon from reading out of bounds.
#ifndef HDGLUE_ADDON_ARGS_H
#define HDGLUE_ADDON_ARGS_H

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "hdglue.h"

namespace hdg_addon {

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& msg) {
  Napi::Error e = Napi::TypeError::New(env, msg);
  e.Set("code", Napi::String::New(env, "ERR_HDGLUE_INVALID_TYPE"));
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
struct ArrayKind<double> {
  static constexpr napi_typedarray_type type = napi_float64_array;
  static constexpr const char* name = "Float64Array";
};

// A typed array argument of element type T with at least `need` elements.
template <typename T>
Napi::TypedArrayOf<T> typed(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != ArrayKind<T>::type)
    throw_type(env, std::string(what) + " must be a " + ArrayKind<T>::name);
  return v.As<Napi::TypedArrayOf<T>>();
}

template <typename T>
const T* optional_typed(const Napi::CallbackInfo& info, size_t i, const char* what, size_t need) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  auto a = typed<T>(info, i, what);
  if (a.ElementLength() < need)
    throw_range(info.Env(), "ERR_HDGLUE_SHAPE", std::string(what) + " is too short");
  return a.Data();
}

// A non-negative integer count or size no larger than `max`.
inline size_t count(const Napi::CallbackInfo& info, size_t i, const char* what, double max = 4294967295.0) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > max || std::floor(d) != d)
    throw_range(info.Env(), "ERR_HDGLUE_OUT_OF_RANGE", std::string(what) + " must be an integer in [0, " +
                                                           std::to_string((uint64_t)max) + "]");
  return (size_t)d;
}

inline uint32_t dimension(const Napi::CallbackInfo& info, size_t i) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), "dim must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1) || d > HDG_MAX_DIM || std::floor(d) != d)
    throw_range(info.Env(), "ERR_HDGLUE_INVALID_DIM", "dim must be an integer in [1, 16777216]");
  return (uint32_t)d;
}

inline size_t words_arg(const Napi::CallbackInfo& info, size_t i) {
  size_t w = count(info, i, "words", (double)hdg_words(HDG_MAX_DIM));
  if (w == 0) throw_range(info.Env(), "ERR_HDGLUE_INVALID_DIM", "words must be at least 1");
  return w;
}

// Rows of `words` 64-bit words in a Uint32Array: needs rows * words * 2 entries. Division keeps
// the check free of overflow for any row count.
inline void need_rows(const Napi::CallbackInfo& info, size_t length, size_t rows, size_t words, const char* what) {
  if (rows > length / (2 * words))
    throw_range(info.Env(), "ERR_HDGLUE_SHAPE", std::string(what) + " is too short for the given rows and words");
}

inline void need_len(const Napi::CallbackInfo& info, size_t length, size_t rows, size_t per_row, const char* what) {
  if (per_row != 0 && rows > length / per_row)
    throw_range(info.Env(), "ERR_HDGLUE_SHAPE", std::string(what) + " is too short");
}

}  // namespace hdg_addon

#endif
