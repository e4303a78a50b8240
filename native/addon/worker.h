// Async kernels: the work runs on the libuv pool while the arrays it reads and writes stay
// pinned by references until the promise settles. Execute touches no napi_env (an N-API rule
// for worker threads); it only calls the C core with raw pointers taken on the main thread.
#ifndef HDGLUE_ADDON_WORKER_H
#define HDGLUE_ADDON_WORKER_H

#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

namespace hdg_addon {

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, std::function<void()> work)
      : Napi::AsyncWorker(env, "hdglue:kernel"), work_(std::move(work)), deferred_(Napi::Promise::Deferred::New(env)) {}

  void Pin(Napi::Value v) {
    if (v.IsObject()) pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override { work_(); }

  void OnOK() override {
    pins_.clear();
    deferred_.Resolve(Env().Undefined());
  }

  void OnError(const Napi::Error& e) override {
    pins_.clear();
    deferred_.Reject(e.Value());
  }

 private:
  std::function<void()> work_;
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> pins_;
};

// Queue `work` with every argument of `info` pinned, returning the promise.
inline Napi::Value run_async(const Napi::CallbackInfo& info, std::function<void()> work) {
  auto* w = new KernelWorker(info.Env(), std::move(work));
  for (size_t i = 0; i < info.Length(); i++) w->Pin(info[i]);
  Napi::Promise p = w->Promise();
  w->Queue();  // the worker deletes itself after OnOK / OnError
  return p;
}

}  // namespace hdg_addon

#endif
