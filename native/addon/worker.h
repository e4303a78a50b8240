// Async kernels: the work runs on the libuv pool while the arrays it reads and writes stay
// pinned by references until the promise settles. Execute touches no napi_env (an N-API rule
// for worker threads); it only calls the C core with raw pointers taken on the main thread.
#ifndef HDGLUE_ADDON_WORKER_H
#define HDGLUE_ADDON_WORKER_H

#include <napi.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "codes.h"

namespace hdg_addon {

// A job's result: resolved as a number, or as undefined when NaN (the kernels with no result).
// A job reports failure by throwing std::runtime_error, which becomes a rejection.
using Job = std::function<double()>;

// Shared word for word with lib/backend/index.ts, so both backends raise the same error.
inline constexpr const char* kResizableMessage =
    "an array passed to an async hdglue call is a view of a resizable ArrayBuffer, which could shrink under the "
    "running call; pass a copy (for example .slice())";

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, Job work)
      : Napi::AsyncWorker(env, "hdglue:kernel"), work_(std::move(work)), deferred_(Napi::Promise::Deferred::New(env)) {}

  // Keeps the array object alive and remembers its size. N-API cannot stop a caller from
  // transferring or detaching the buffer meanwhile (that is documented as forbidden); if it
  // happened, the promise is rejected instead of resolved with results from memory the caller
  // gave away.
  void Pin(Napi::Value v) {
    if (!v.IsObject()) return;
    pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    sizes_.push_back(v.IsTypedArray() ? v.As<Napi::TypedArray>().ByteLength() : 0);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      result_ = work_();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    bool detached = false;
    for (size_t i = 0; i < pins_.size(); i++) {
      Napi::Value v = pins_[i].Value();
      if (v.IsTypedArray() && v.As<Napi::TypedArray>().ByteLength() != sizes_[i]) detached = true;
    }
    pins_.clear();
    if (detached) {
      Napi::Error e = Napi::Error::New(env, "an array passed to an async hdglue call was detached, transferred or "
                                            "resized before the call finished; its results are discarded");
      e.Set("code", Napi::String::New(env, code::kDetached));
      deferred_.Reject(e.Value());
      return;
    }
    deferred_.Resolve(result_ != result_ ? env.Undefined() : Napi::Number::New(env, result_));
  }

  void OnError(const Napi::Error& e) override {
    pins_.clear();
    // The only failure a job reports is a failed allocation (see encoder_result in addon.cc).
    Napi::Error err = e;
    err.Set("code", Napi::String::New(Env(), code::kOutOfMemory));
    deferred_.Reject(err.Value());
  }

 private:
  Job work_;
  double result_ = 0;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> pins_;
  std::vector<size_t> sizes_;
};

// A typed array on a resizable ArrayBuffer cannot back async work: shrinking the buffer makes V8
// decommit the pages past the new length, and a worker still reading them faults, taking the
// whole process down (the size check in OnOK comes too late). Such arrays are refused before
// anything is queued; growable SharedArrayBuffers never shrink and are fine.
inline void refuse_resizable(const Napi::CallbackInfo& info) {
  for (size_t i = 0; i < info.Length(); i++) {
    if (!info[i].IsTypedArray()) continue;
    Napi::Value r = info[i].As<Napi::TypedArray>().ArrayBuffer().Get("resizable");
    if (r.IsBoolean() && r.As<Napi::Boolean>().Value()) {
      Napi::Error e = Napi::TypeError::New(info.Env(), kResizableMessage);
      e.Set("code", Napi::String::New(info.Env(), code::kInvalidType));
      throw e;
    }
  }
}

// Queue `work` with every argument of `info` pinned, returning the promise.
inline Napi::Value run_async(const Napi::CallbackInfo& info, Job work) {
  refuse_resizable(info);
  auto* w = new KernelWorker(info.Env(), std::move(work));
  for (size_t i = 0; i < info.Length(); i++) w->Pin(info[i]);
  Napi::Promise p = w->Promise();
  w->Queue();  // the worker deletes itself after OnOK / OnError
  return p;
}

}  // namespace hdg_addon

#endif
