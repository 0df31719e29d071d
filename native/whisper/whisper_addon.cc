#include <napi.h>
#include <whisper.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

// Which GPU backend the build linked in (set by CMakeLists.txt from EARSHOT_WHISPER_GPU).
#ifndef EARSHOT_WHISPER_GPU_BACKEND
#define EARSHOT_WHISPER_GPU_BACKEND "cpu"
#endif

namespace {

// ggml_log_level values; 0 (GGML_LOG_LEVEL_NONE) means print nothing. Silent by default because whisper.cpp
// and ggml print model and system details on every load, which would interleave with the host's own output.
std::atomic<int> g_min_log_level{GGML_LOG_LEVEL_NONE};
std::atomic<int> g_last_log_level{GGML_LOG_LEVEL_INFO};

void ForwardLog(ggml_log_level level, const char* text, void*) {
  int effective = level;
  if (level == GGML_LOG_LEVEL_CONT) {
    effective = g_last_log_level.load(std::memory_order_relaxed);
  } else {
    g_last_log_level.store(level, std::memory_order_relaxed);
  }
  const int min = g_min_log_level.load(std::memory_order_relaxed);
  if (min == GGML_LOG_LEVEL_NONE || effective < min) return;
  std::fputs(text, stderr);
}

struct Segment {
  std::string text;
  int64_t t0_ms;
  int64_t t1_ms;
  float no_speech_prob;
};

struct TranscribeParams {
  std::string language;
  int threads = 1;
  bool temperature_fallback = true;
  // Encoder positions to compute (50 per second of audio); 0 = the model's whole 30 s window.
  int audio_ctx = 0;
};

struct AddonData {
  Napi::FunctionReference context_constructor;
};

class WhisperContext : public Napi::ObjectWrap<WhisperContext> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "WhisperContext",
                       {
                           InstanceMethod<&WhisperContext::Transcribe>("transcribe"),
                           InstanceMethod<&WhisperContext::Abort>("abort"),
                           InstanceMethod<&WhisperContext::Free>("free"),
                           InstanceAccessor<&WhisperContext::IsMultilingual>("multilingual"),
                       });
  }

  explicit WhisperContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WhisperContext>(info) {}

  ~WhisperContext() override {
    // A running worker holds a reference to this object, so the GC can only get here when idle.
    if (ctx_ != nullptr) whisper_free(ctx_);
  }

  void Adopt(whisper_context* ctx) { ctx_ = ctx; }
  whisper_context* Raw() const { return ctx_; }
  std::atomic<bool>* AbortFlag() { return &abort_; }
  void SetBusy(bool busy) { busy_ = busy; }

 private:
  Napi::Value Transcribe(const Napi::CallbackInfo& info);

  Napi::Value Abort(const Napi::CallbackInfo& info) {
    abort_.store(true);
    return info.Env().Undefined();
  }

  Napi::Value Free(const Napi::CallbackInfo& info) {
    if (busy_) {
      throw Napi::Error::New(info.Env(), "cannot free a whisper context while a transcription is running");
    }
    if (ctx_ != nullptr) {
      whisper_free(ctx_);
      ctx_ = nullptr;
    }
    return info.Env().Undefined();
  }

  Napi::Value IsMultilingual(const Napi::CallbackInfo& info) {
    if (ctx_ == nullptr) throw Napi::Error::New(info.Env(), "whisper context is freed");
    return Napi::Boolean::New(info.Env(), whisper_is_multilingual(ctx_) != 0);
  }

  whisper_context* ctx_ = nullptr;
  std::atomic<bool> abort_{false};
  bool busy_ = false;
};

class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, whisper_context_params params)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)), params_(params) {}

  ~LoadWorker() override {
    if (ctx_ != nullptr) whisper_free(ctx_);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    ctx_ = whisper_init_from_file_with_params(path_.c_str(), params_);
    if (ctx_ == nullptr) SetError("whisper.cpp could not load the model " + path_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    AddonData* data = env.GetInstanceData<AddonData>();
    Napi::Object obj = data->context_constructor.New({});
    WhisperContext::Unwrap(obj)->Adopt(ctx_);
    ctx_ = nullptr;
    deferred_.Resolve(obj);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  whisper_context_params params_;
  whisper_context* ctx_ = nullptr;
};

class TranscribeWorker : public Napi::AsyncWorker {
 public:
  TranscribeWorker(Napi::Env env, Napi::Object owner, WhisperContext* context, std::vector<float> samples,
                   TranscribeParams params)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(Napi::Persistent(owner)),
        context_(context),
        samples_(std::move(samples)),
        params_(std::move(params)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    std::atomic<bool>* flag = context_->AbortFlag();
    whisper_context* ctx = context_->Raw();

    whisper_full_params wp = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
    wp.n_threads = params_.threads;
    wp.language = params_.language.c_str();
    wp.detect_language = false;
    wp.no_context = true;
    wp.single_segment = false;
    wp.print_special = false;
    wp.print_progress = false;
    wp.print_realtime = false;
    wp.print_timestamps = false;
    if (!params_.temperature_fallback) wp.temperature_inc = 0.0f;
    // Beyond the model's window the positional embedding runs out: whisper.cpp does not clamp it itself.
    if (params_.audio_ctx > 0) wp.audio_ctx = std::min(params_.audio_ctx, whisper_model_n_audio_ctx(ctx));
    // The encoder is one uninterruptible graph; whisper.cpp consults these between windows and decoder steps.
    wp.encoder_begin_callback = [](whisper_context*, whisper_state*, void* data) {
      return !static_cast<std::atomic<bool>*>(data)->load();
    };
    wp.encoder_begin_callback_user_data = flag;
    wp.abort_callback = [](void* data) { return static_cast<std::atomic<bool>*>(data)->load(); };
    wp.abort_callback_user_data = flag;

    whisper_reset_timings(ctx);
    const int rc = whisper_full(ctx, wp, samples_.data(), static_cast<int>(samples_.size()));
    // Per-call phase timings (mel, encode, decode...) for whoever turned logging up to info.
    const int min_level = g_min_log_level.load(std::memory_order_relaxed);
    if (min_level != GGML_LOG_LEVEL_NONE && min_level <= GGML_LOG_LEVEL_INFO) whisper_print_timings(ctx);
    aborted_ = flag->load();
    if (aborted_) return;
    if (rc != 0) {
      SetError("whisper_full failed with code " + std::to_string(rc));
      return;
    }
    const int n = whisper_full_n_segments(ctx);
    segments_.reserve(n);
    for (int i = 0; i < n; ++i) {
      const char* text = whisper_full_get_segment_text(ctx, i);
      // whisper.cpp timestamps are in 10 ms units.
      segments_.push_back(Segment{text != nullptr ? text : "", whisper_full_get_segment_t0(ctx, i) * 10,
                                  whisper_full_get_segment_t1(ctx, i) * 10,
                                  whisper_full_get_segment_no_speech_prob(ctx, i)});
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    context_->SetBusy(false);
    Napi::Array list = Napi::Array::New(env, segments_.size());
    for (size_t i = 0; i < segments_.size(); ++i) {
      Napi::Object seg = Napi::Object::New(env);
      seg.Set("text", Napi::String::New(env, segments_[i].text));
      seg.Set("t0Ms", Napi::Number::New(env, static_cast<double>(segments_[i].t0_ms)));
      seg.Set("t1Ms", Napi::Number::New(env, static_cast<double>(segments_[i].t1_ms)));
      seg.Set("noSpeechProb", Napi::Number::New(env, segments_[i].no_speech_prob));
      list.Set(static_cast<uint32_t>(i), seg);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("aborted", Napi::Boolean::New(env, aborted_));
    result.Set("segments", list);
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override {
    context_->SetBusy(false);
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference owner_;
  WhisperContext* context_;
  std::vector<float> samples_;
  TranscribeParams params_;
  std::vector<Segment> segments_;
  bool aborted_ = false;
};

bool BoolOption(const Napi::Object& options, const char* key, bool fallback) {
  Napi::Value v = options.Get(key);
  return v.IsBoolean() ? v.As<Napi::Boolean>().Value() : fallback;
}

Napi::Value WhisperContext::Transcribe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (ctx_ == nullptr) throw Napi::Error::New(env, "whisper context is freed");
  if (busy_) throw Napi::Error::New(env, "whisper context is busy: calls must be serialized");
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "transcribe(samples: Float32Array, options: object)");
  }
  Napi::TypedArray typed = info[0].As<Napi::TypedArray>();
  if (typed.TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "samples must be a Float32Array");
  }
  Napi::Float32Array array = typed.As<Napi::Float32Array>();
  Napi::Object options = info[1].As<Napi::Object>();

  TranscribeParams params;
  Napi::Value language = options.Get("language");
  params.language = language.IsString() ? language.As<Napi::String>().Utf8Value() : "en";
  if (params.language != "auto" && whisper_lang_id(params.language.c_str()) < 0) {
    throw Napi::TypeError::New(env, "unknown language '" + params.language + "'");
  }
  Napi::Value threads = options.Get("threads");
  params.threads = threads.IsNumber() ? std::max(1, threads.As<Napi::Number>().Int32Value()) : 1;
  params.temperature_fallback = BoolOption(options, "temperatureFallback", true);
  Napi::Value audio_ctx = options.Get("audioCtx");
  params.audio_ctx = audio_ctx.IsNumber() ? std::max(0, audio_ctx.As<Napi::Number>().Int32Value()) : 0;

  std::vector<float> samples(array.Data(), array.Data() + array.ElementLength());
  abort_.store(false);
  busy_ = true;
  auto* worker = new TranscribeWorker(env, info.This().As<Napi::Object>(), this, std::move(samples), std::move(params));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
    throw Napi::TypeError::New(env, "loadModel(path: string, options: object)");
  }
  Napi::Object options = info[1].As<Napi::Object>();
  whisper_context_params params = whisper_context_default_params();
  params.use_gpu = BoolOption(options, "useGpu", false);
  params.flash_attn = BoolOption(options, "flashAttention", true);
  Napi::Value device = options.Get("gpuDevice");
  params.gpu_device = device.IsNumber() ? device.As<Napi::Number>().Int32Value() : 0;

  auto* worker = new LoadWorker(env, info[0].As<Napi::String>().Utf8Value(), params);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value SetLogLevel(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "setLogLevel(level: number)");
  }
  g_min_log_level.store(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value LanguageId(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "languageId(code: string)");
  return Napi::Number::New(info.Env(), whisper_lang_id(info[0].As<Napi::String>().Utf8Value().c_str()));
}

Napi::Value SystemInfo(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), whisper_print_system_info());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  whisper_log_set(ForwardLog, nullptr);
  auto* data = new AddonData();
  Napi::Function ctor = WhisperContext::Define(env);
  data->context_constructor = Napi::Persistent(ctor);
  env.SetInstanceData(data);

  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  exports.Set("setLogLevel", Napi::Function::New(env, SetLogLevel, "setLogLevel"));
  exports.Set("languageId", Napi::Function::New(env, LanguageId, "languageId"));
  exports.Set("systemInfo", Napi::Function::New(env, SystemInfo, "systemInfo"));
  exports.Set("whisperVersion", Napi::String::New(env, whisper_version()));
  exports.Set("gpuBackend", Napi::String::New(env, EARSHOT_WHISPER_GPU_BACKEND));
  return exports;
}

}  // namespace

NODE_API_MODULE(earshot_whisper, Init)
