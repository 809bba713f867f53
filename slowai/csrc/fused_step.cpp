// slowai's fused optimiser steps for float32 params on the CPU (lesson 20, `slowai.fused`).
//
// One call updates every tensor of a param group: the elements of all the tensors are cut into cache lines (16 floats)
// and shared among torch's intra-op threads (at::parallel_for, so torch.set_num_threads governs them); each element is
// read once, updated in registers and written once. The loops are plain C++ under `#pragma omp simd`, compiled three
// times (AVX-512, AVX2+FMA, baseline x86-64) with GCC's target_clones, so one cached build runs at full width on any
// x86 machine; elsewhere the compiler's default target is used.
//
// The arithmetic is torch's fused CPU kernels', operation by operation, including the multiply-adds that GCC fuses in
// torch's build (written out here as fmaf; everything else is compiled with -ffp-contract=off), so the results are
// bitwise those of torch.optim's fused=True. One wrinkle: torch's Adam computes the last `numel % 8` elements of each
// tensor in scalar code that GCC fused differently (v = fma(v, b2, c2 g g) instead of fma(c2 g, g, v b2), and SGD's
// momentum likewise); `scalar_from` reproduces it. (Measured on an AVX-512 build of torch 2.14; elsewhere those few
// elements may differ by an ulp.)
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SLOWAI_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SLOWAI_CLONES
#endif
#define SLOWAI_INLINE inline __attribute__((always_inline))

namespace {

constexpr int64_t kLine = 16;          // floats per 64-byte cache line: the unit of work shared among threads
constexpr int64_t kGrainLines = 2048;  // 32k floats: below this, one thread does the whole call

// ---- bfloat16 state: loaded exactly, stored with stochastic rounding ------------------------------------------------
SLOWAI_INLINE float bf16_to_float(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16; float f; std::memcpy(&f, &bits, 4); return f;
}
SLOWAI_INLINE uint32_t mix32(uint32_t x) {   // murmur3's finaliser: a counter-based random 32-bit integer
  x ^= x >> 16; x *= 0x85ebca6bu; x ^= x >> 13; x *= 0xc2b2ae35u; x ^= x >> 16; return x;
}
// Round `f` to bfloat16 up or down with probabilities that make the result unbiased: add a random 16-bit integer to the
// 16 bits that are dropped, then drop them. (Finite values only: NaN and values within one bf16 step of the float
// maximum are not special-cased.)
SLOWAI_INLINE uint16_t float_to_bf16_sr(float f, uint32_t seed, uint32_t i) {
  uint32_t bits; std::memcpy(&bits, &f, 4);
  return uint16_t((bits + (mix32(i * 0x9e3779b1u ^ seed) & 0xffffu)) >> 16);
}
template <typename S> SLOWAI_INLINE float load(const S* x, int64_t i);
template <> SLOWAI_INLINE float load<float>(const float* x, int64_t i) { return x[i]; }
template <> SLOWAI_INLINE float load<uint16_t>(const uint16_t* x, int64_t i) { return bf16_to_float(x[i]); }
template <typename S> SLOWAI_INLINE void store(S* x, int64_t i, float v, uint32_t seed);
template <> SLOWAI_INLINE void store<float>(float* x, int64_t i, float v, uint32_t) { x[i] = v; }
template <> SLOWAI_INLINE void store<uint16_t>(uint16_t* x, int64_t i, float v, uint32_t seed) {
  x[i] = float_to_bf16_sr(v, seed, uint32_t(i));
}

// torch's lerp: m + w (g - m) for |w| < 1/2, else g - (g - m)(1 - w), each with one rounding (a fused multiply-add).
SLOWAI_INLINE float lerp_torch(float m, float g, float w) {
  bool small = std::fabs(w) < 0.5f;
  return __builtin_fmaf(small ? w : w - 1.0f, g - m, small ? m : g);
}

// ---- work sharing ------------------------------------------------------------------------------------------------
// Call fn(t, lo, hi) on element ranges of tensor t: every element of every tensor once, across torch's threads.
template <typename F>
void for_ranges(const std::vector<int64_t>& numels, const F& fn) {
  const int64_t n = numels.size();
  std::vector<int64_t> start(n + 1, 0);  // prefix sums, in cache lines
  for (int64_t t = 0; t < n; ++t) start[t + 1] = start[t] + (numels[t] + kLine - 1) / kLine;
  at::parallel_for(0, start[n], kGrainLines, [&](int64_t b, int64_t e) {
    int64_t t = std::upper_bound(start.begin(), start.end(), b) - start.begin() - 1;
    for (; t < n && start[t] < e; ++t) {
      int64_t lo = (std::max(b, start[t]) - start[t]) * kLine, hi = (std::min(e, start[t + 1]) - start[t]) * kLine;
      if (lo < numels[t]) fn(t, lo, std::min(hi, numels[t]));
    }
  });
}

void check_list(const std::vector<at::Tensor>& xs, const std::vector<at::Tensor>& params, const char* name,
                bool state_bf16_ok = false) {
  TORCH_CHECK(xs.size() == params.size(), "slowai fused step: ", name, " has ", xs.size(), " tensors, params have ",
              params.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const auto& x = xs[i];
    TORCH_CHECK(x.device().is_cpu() && x.is_contiguous() && x.numel() == params[i].numel(),
                "slowai fused step: ", name, "[", i, "] must be a contiguous CPU tensor of the param's size");
    TORCH_CHECK(x.scalar_type() == at::kFloat || (state_bf16_ok && x.scalar_type() == at::kBFloat16),
                "slowai fused step: ", name, "[", i, "] must be float32", state_bf16_ok ? " or bfloat16" : "",
                ", got ", x.scalar_type());
  }
}

// Whether the kernels take these params and grads: contiguous float32 CPU tensors, each grad the size of its param.
bool fusable(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads) {
  if (params.size() != grads.size()) return false;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto &p = params[i], &g = grads[i];
    if (!p.device().is_cpu() || !g.device().is_cpu() || p.scalar_type() != at::kFloat ||
        g.scalar_type() != at::kFloat || !p.is_contiguous() || !g.is_contiguous() || p.numel() != g.numel())
      return false;
  }
  return true;
}

// ---- SGD, with or without momentum (torch.optim.SGD's fused kernel, plus slowai's decoupled decay) ------------------
struct SgdArgs { float neg_lr, wd, decay, mom, damp1; bool l2, decoupled, momentum, nesterov, maximize; };

template <bool FIRST, bool TAIL>
SLOWAI_INLINE void sgd_loop(float* __restrict p, const float* __restrict g, float* __restrict b, int64_t lo, int64_t hi,
                            const SgdArgs& a) {
  const float neg_lr = a.neg_lr, wd = a.wd, decay = a.decay, mom = a.mom, damp1 = a.damp1;
  const float sign = a.maximize ? -1.f : 1.f;
  const bool l2 = a.l2, decoupled = a.decoupled, momentum = a.momentum, nesterov = a.nesterov;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    float gi = g[i] * sign, pi = p[i];
    if (decoupled) pi = pi * decay;
    if (l2) gi = __builtin_fmaf(pi, wd, gi);
    if (momentum) {
      float bi = FIRST ? gi : TAIL ? __builtin_fmaf(b[i], mom, gi * damp1) : __builtin_fmaf(gi, damp1, b[i] * mom);
      b[i] = bi;
      gi = nesterov ? __builtin_fmaf(bi, mom, gi) : bi;
    }
    p[i] = __builtin_fmaf(gi, neg_lr, pi);
  }
}

SLOWAI_CLONES void sgd_range(float* p, const float* g, float* b, int64_t lo, int64_t hi, const SgdArgs& a, bool first,
                             int64_t scalar_from) {
  int64_t mid = std::min(std::max(lo, scalar_from), hi);  // [lo, mid): torch's vector loops; [mid, hi): its scalar tail
  if (first) { sgd_loop<true, false>(p, g, b, lo, mid, a); sgd_loop<true, true>(p, g, b, mid, hi, a); }
  else { sgd_loop<false, false>(p, g, b, lo, mid, a); sgd_loop<false, true>(p, g, b, mid, hi, a); }
}

void sgd_step(std::vector<at::Tensor> params, std::vector<at::Tensor> grads, std::vector<at::Tensor> bufs,
              std::vector<bool> first, double lr, double weight_decay, bool decoupled, double momentum,
              double dampening, bool nesterov, bool maximize) {
  check_list(params, params, "params"); check_list(grads, params, "grads");
  SgdArgs a{float(-lr), float(weight_decay), float(1 - lr * weight_decay), float(momentum), float(1 - dampening),
            weight_decay != 0 && !decoupled, weight_decay != 0 && decoupled, momentum != 0, nesterov, maximize};
  if (a.momentum) check_list(bufs, params, "momentum buffers");
  TORCH_CHECK(first.empty() || first.size() == params.size(), "slowai fused step: one first-step flag per param, or none");
  std::vector<int64_t> numels;
  for (auto& x : params) numels.push_back(x.numel());
  for_ranges(numels, [&](int64_t t, int64_t lo, int64_t hi) {
    sgd_range(params[t].data_ptr<float>(), grads[t].data_ptr<float>(),
              a.momentum ? bufs[t].data_ptr<float>() : nullptr, lo, hi, a, a.momentum && !first.empty() && first[t],
              numels[t] - numels[t] % 8);
  });
}

// ---- Adam and AdamW (torch.optim.Adam's fused kernel), state in float32 or bfloat16 -------------------------------
struct AdamArgs { float w1, c2, b2, eps, wd, decay; bool l2, decoupled, amsgrad, maximize; };
struct AdamTensor { float neg_step_size, bc2_sqrt; int64_t scalar_from; uint32_t seed; };

template <bool AMSGRAD, bool TAIL, typename S>
SLOWAI_INLINE void adam_loop(float* __restrict p, const float* __restrict g, S* __restrict m, S* __restrict v,
                             S* __restrict vmax, int64_t lo, int64_t hi, const AdamArgs& a, const AdamTensor& t) {
  const uint32_t seed_m = t.seed, seed_v = t.seed ^ 0x68e31da4u, seed_x = t.seed ^ 0xb5297a4du;
  const float w1 = a.w1, c2 = a.c2, b2 = a.b2, eps = a.eps, wd = a.l2 ? a.wd : 0.f, decay = a.decoupled ? a.decay : 1.f;
  const float sign = a.maximize ? -1.f : 1.f, neg_step_size = t.neg_step_size, bc2_sqrt = t.bc2_sqrt;
  const bool l2 = a.l2, decoupled = a.decoupled;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    float gi = g[i] * sign, pi = p[i];            // torch negates by multiplying by -1 too
    if (l2) gi = __builtin_fmaf(pi, wd, gi);
    if (decoupled) pi = pi * decay;
    float mi = lerp_torch(load(m, i), gi, w1);
    float vi = TAIL ? __builtin_fmaf(load(v, i), b2, c2 * gi * gi) : __builtin_fmaf(c2 * gi, gi, load(v, i) * b2);
    store(m, i, mi, seed_m); store(v, i, vi, seed_v);
    if (AMSGRAD) {
      float x = load(vmax, i);
      vi = x > vi ? x : vi;
      store(vmax, i, vi, seed_x);
    }
    float denom = std::sqrt(vi) / bc2_sqrt + eps;
    p[i] = pi + (neg_step_size * mi) / denom;
  }
}

template <typename S>
SLOWAI_INLINE void adam_range_t(float* p, const float* g, S* m, S* v, S* vmax, int64_t lo, int64_t hi,
                                const AdamArgs& a, const AdamTensor& t) {
  int64_t mid = std::min(std::max(lo, t.scalar_from), hi);  // [lo, mid): torch's vector loops; [mid, hi): its scalar tail
  if (a.amsgrad) {
    adam_loop<true, false>(p, g, m, v, vmax, lo, mid, a, t); adam_loop<true, true>(p, g, m, v, vmax, mid, hi, a, t);
  } else {
    adam_loop<false, false>(p, g, m, v, vmax, lo, mid, a, t); adam_loop<false, true>(p, g, m, v, vmax, mid, hi, a, t);
  }
}

SLOWAI_CLONES void adam_range_f32(float* p, const float* g, float* m, float* v, float* vmax, int64_t lo, int64_t hi,
                                  const AdamArgs& a, const AdamTensor& t) {
  adam_range_t(p, g, m, v, vmax, lo, hi, a, t);
}
SLOWAI_CLONES void adam_range_bf16(float* p, const float* g, uint16_t* m, uint16_t* v, uint16_t* vmax, int64_t lo,
                                   int64_t hi, const AdamArgs& a, const AdamTensor& t) {
  adam_range_t(p, g, m, v, vmax, lo, hi, a, t);
}

void adam_step(std::vector<at::Tensor> params, std::vector<at::Tensor> grads, std::vector<at::Tensor> exp_avgs,
               std::vector<at::Tensor> exp_avg_sqs, std::vector<at::Tensor> max_exp_avg_sqs,
               std::vector<at::Tensor> steps, double lr, double beta1, double beta2, double eps, double weight_decay,
               bool decoupled, bool amsgrad, bool maximize, std::vector<int64_t> seeds) {
  check_list(params, params, "params"); check_list(grads, params, "grads");
  check_list(exp_avgs, params, "exp_avg", true); check_list(exp_avg_sqs, params, "exp_avg_sq", true);
  if (amsgrad) check_list(max_exp_avg_sqs, params, "max_exp_avg_sq", true);
  TORCH_CHECK(steps.size() == params.size() && seeds.size() == params.size(),
              "slowai fused step: one step and one seed per param");
  AdamArgs a{float(1 - beta1), float(1 - beta2), float(beta2), float(eps), float(weight_decay),
             float(1 - lr * weight_decay), weight_decay != 0 && !decoupled, weight_decay != 0 && decoupled, amsgrad,
             maximize};
  const int64_t n = params.size();
  std::vector<AdamTensor> ts(n);
  std::vector<int64_t> numels(n);
  std::vector<bool> bf16(n);
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(steps[i].scalar_type() == at::kFloat && steps[i].numel() == 1 && steps[i].device().is_cpu(),
                "slowai fused step: step[", i, "] must be a one-element float32 CPU tensor (torch's fused layout)");
    TORCH_CHECK(exp_avg_sqs[i].scalar_type() == exp_avgs[i].scalar_type() &&
                (!amsgrad || max_exp_avg_sqs[i].scalar_type() == exp_avgs[i].scalar_type()),
                "slowai fused step: the state tensors of param ", i, " must share one dtype");
    float* step = steps[i].data_ptr<float>();
    *step += 1.0f;                                     // torch keeps the count as a float32 tensor
    double s = *step, bc1 = 1 - std::pow(beta1, s), bc2 = 1 - std::pow(beta2, s);  // in double, as torch
    numels[i] = params[i].numel();
    ts[i] = AdamTensor{float(-(lr / bc1)), float(std::sqrt(bc2)), numels[i] - numels[i] % 8,
                       mix32(uint32_t(seeds[i]) ^ mix32(uint32_t(s)))};
    bf16[i] = exp_avgs[i].scalar_type() == at::kBFloat16;
  }
  for_ranges(numels, [&](int64_t i, int64_t lo, int64_t hi) {
    float* p = params[i].data_ptr<float>();
    const float* g = grads[i].data_ptr<float>();
    if (bf16[i]) {
      auto ptr = [&](const at::Tensor& x) { return reinterpret_cast<uint16_t*>(x.data_ptr<at::BFloat16>()); };
      adam_range_bf16(p, g, ptr(exp_avgs[i]), ptr(exp_avg_sqs[i]), amsgrad ? ptr(max_exp_avg_sqs[i]) : nullptr, lo, hi,
                      a, ts[i]);
    } else {
      adam_range_f32(p, g, exp_avgs[i].data_ptr<float>(), exp_avg_sqs[i].data_ptr<float>(),
                     amsgrad ? max_exp_avg_sqs[i].data_ptr<float>() : nullptr, lo, hi, a, ts[i]);
    }
  });
}

// ---- Lion (no torch kernel to match: slowai's foreach Lion, whose lerp is torch's) --------------------------------
struct LionArgs { float neg_lr, decay, w1, w2; bool decoupled, maximize; };

SLOWAI_INLINE void lion_loop(float* __restrict p, const float* __restrict g, float* __restrict m, int64_t lo, int64_t hi,
                             const LionArgs& a) {
  const float neg_lr = a.neg_lr, decay = a.decoupled ? a.decay : 1.f, w1 = a.w1, w2 = a.w2;
  const float sign = a.maximize ? -1.f : 1.f;
  const bool decoupled = a.decoupled;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    float gi = g[i] * sign, pi = p[i], mi = m[i];
    if (decoupled) pi = pi * decay;
    float c = lerp_torch(mi, gi, w1);
    float s = c > 0.f ? 1.f : (c < 0.f ? -1.f : 0.f);
    p[i] = __builtin_fmaf(s, neg_lr, pi);  // exact: s is -1, 0 or 1
    m[i] = lerp_torch(mi, gi, w2);
  }
}

SLOWAI_CLONES void lion_range(float* p, const float* g, float* m, int64_t lo, int64_t hi, const LionArgs& a) {
  lion_loop(p, g, m, lo, hi, a);
}

void lion_step(std::vector<at::Tensor> params, std::vector<at::Tensor> grads, std::vector<at::Tensor> exp_avgs,
               double lr, double beta1, double beta2, double weight_decay, bool maximize) {
  check_list(params, params, "params"); check_list(grads, params, "grads"); check_list(exp_avgs, params, "exp_avg");
  LionArgs a{float(-lr), float(1 - lr * weight_decay), float(1 - beta1), float(1 - beta2), weight_decay != 0, maximize};
  std::vector<int64_t> numels;
  for (auto& x : params) numels.push_back(x.numel());
  for_ranges(numels, [&](int64_t t, int64_t lo, int64_t hi) {
    lion_range(params[t].data_ptr<float>(), grads[t].data_ptr<float>(), exp_avgs[t].data_ptr<float>(), lo, hi, a);
  });
}

// ---- RMSprop (no torch kernel to match: torch.optim.RMSprop's foreach step, operation by operation) -----------------
// Each torch._foreach_* op rounds once; the ones whose CPU kernels GCC fuses (add with alpha, addcmul) are written out
// as fmaf, the others (mul, sqrt, add, addcdiv's divide-then-add) round after each operation as torch's do.
struct RmspropArgs { float neg_lr, alpha, c, eps, wd, mom; bool l2, centered, momentum, maximize; };

template <bool CENTERED, bool MOMENTUM>
SLOWAI_INLINE void rmsprop_loop(float* __restrict p, const float* __restrict g, float* __restrict v,
                                float* __restrict ga, float* __restrict b, int64_t lo, int64_t hi,
                                const RmspropArgs& a) {
  const float neg_lr = a.neg_lr, alpha = a.alpha, c = a.c, eps = a.eps, wd = a.l2 ? a.wd : 0.f, mom = a.mom;
  const float sign = a.maximize ? -1.f : 1.f;
  const bool l2 = a.l2;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    float gi = g[i] * sign, pi = p[i];
    if (l2) gi = __builtin_fmaf(pi, wd, gi);                   // _foreach_add(grads, params, alpha=wd)
    float vi = __builtin_fmaf(c * gi, gi, v[i] * alpha);       // _foreach_mul_(v, alpha); _foreach_addcmul_(v, g, g, c)
    v[i] = vi;
    float avg;
    if (CENTERED) {
      float gai = lerp_torch(ga[i], gi, c);                    // _foreach_lerp_(grad_avg, g, 1 - alpha)
      ga[i] = gai;
      avg = std::sqrt(__builtin_fmaf(-gai, gai, vi)) + eps;    // addcmul(v, ga, ga, value=-1), sqrt, + eps
    } else avg = std::sqrt(vi) + eps;
    if (MOMENTUM) {
      float bi = b[i] * mom + gi / avg;                        // _foreach_mul_(buf, mom); addcdiv_(buf, g, avg)
      b[i] = bi;
      p[i] = __builtin_fmaf(bi, neg_lr, pi);                   // _foreach_add_(params, buf, alpha=-lr)
    } else p[i] = pi + (neg_lr * gi) / avg;                    // _foreach_addcdiv_(params, g, avg, value=-lr)
  }
}

SLOWAI_CLONES void rmsprop_range(float* p, const float* g, float* v, float* ga, float* b, int64_t lo, int64_t hi,
                                 const RmspropArgs& a) {
  if (a.centered && a.momentum) rmsprop_loop<true, true>(p, g, v, ga, b, lo, hi, a);
  else if (a.centered) rmsprop_loop<true, false>(p, g, v, ga, b, lo, hi, a);
  else if (a.momentum) rmsprop_loop<false, true>(p, g, v, ga, b, lo, hi, a);
  else rmsprop_loop<false, false>(p, g, v, ga, b, lo, hi, a);
}

void count_steps(const std::vector<at::Tensor>& steps, size_t n) {
  TORCH_CHECK(steps.size() == n, "slowai fused step: one step count per param");
  for (size_t i = 0; i < n; ++i) {
    TORCH_CHECK(steps[i].scalar_type() == at::kFloat && steps[i].numel() == 1 && steps[i].device().is_cpu(),
                "slowai fused step: step[", i, "] must be a one-element float32 CPU tensor");
    *steps[i].data_ptr<float>() += 1.0f;
  }
}

void rmsprop_step(std::vector<at::Tensor> params, std::vector<at::Tensor> grads, std::vector<at::Tensor> square_avgs,
                  std::vector<at::Tensor> grad_avgs, std::vector<at::Tensor> bufs, std::vector<at::Tensor> steps,
                  double lr, double alpha, double eps, double weight_decay, double momentum, bool centered,
                  bool maximize) {
  check_list(params, params, "params"); check_list(grads, params, "grads");
  check_list(square_avgs, params, "square_avg");
  if (centered) check_list(grad_avgs, params, "grad_avg");
  if (momentum > 0) check_list(bufs, params, "momentum_buffer");
  count_steps(steps, params.size());
  RmspropArgs a{float(-lr), float(alpha), float(1 - alpha), float(eps), float(weight_decay), float(momentum),
                weight_decay != 0, centered, momentum > 0, maximize};
  std::vector<int64_t> numels;
  for (auto& x : params) numels.push_back(x.numel());
  for_ranges(numels, [&](int64_t t, int64_t lo, int64_t hi) {
    rmsprop_range(params[t].data_ptr<float>(), grads[t].data_ptr<float>(), square_avgs[t].data_ptr<float>(),
                  centered ? grad_avgs[t].data_ptr<float>() : nullptr, a.momentum ? bufs[t].data_ptr<float>() : nullptr,
                  lo, hi, a);
  });
}

// ---- RAdam (torch.optim.RAdam's foreach step, operation by operation) ----------------------------------------------
// Per tensor, torch computes in double: rho_t, the rectification r_t (0 while rho_t <= 5), and two scalars, rounded
// to float32 when handed to the foreach ops: s = sqrt(1 - b2^t) lr r_t / (1 - b1^t) * -1 and
// u = lr (r_t == 0) / (1 - b1^t) * -1. Then buffer = 1 / ((sqrt(v) + eps) / s) + u and p += m * buffer. While
// unrectified, s is -0, the buffer 1 / (x / -0) + u is exactly u, and the kernel skips the square root.
struct RadamArgs { float w1, c2, b2, eps, wd, decay; bool l2, decoupled, maximize; };
struct RadamTensor { float s, u; bool rect; };

template <bool RECT>
SLOWAI_INLINE void radam_loop(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                              int64_t lo, int64_t hi, const RadamArgs& a, const RadamTensor& t) {
  const float w1 = a.w1, c2 = a.c2, b2 = a.b2, eps = a.eps, wd = a.l2 ? a.wd : 0.f, decay = a.decoupled ? a.decay : 1.f;
  const float sign = a.maximize ? -1.f : 1.f, s = t.s, u = t.u;
  const bool l2 = a.l2, decoupled = a.decoupled;
#pragma omp simd
  for (int64_t i = lo; i < hi; ++i) {
    float gi = g[i] * sign, pi = p[i];
    if (decoupled) pi = pi * decay;                            // _foreach_mul_(params, 1 - lr wd)
    if (l2) gi = __builtin_fmaf(pi, wd, gi);                   // _foreach_add(grads, params, alpha=wd)
    float mi = lerp_torch(m[i], gi, w1);                       // _foreach_lerp_(exp_avg, g, 1 - b1)
    float vi = __builtin_fmaf(c2 * gi, gi, v[i] * b2);         // _foreach_mul_(v, b2); addcmul_(v, g, g, 1 - b2)
    m[i] = mi; v[i] = vi;
    float buf = RECT ? 1.0f / ((std::sqrt(vi) + eps) / s) : u;  // sqrt, + eps, / s, reciprocal (+ u, which is 0 here)
    p[i] = __builtin_fmaf(mi, buf, pi);                        // _foreach_addcmul_(params, exp_avg, buffer)
  }
}

SLOWAI_CLONES void radam_range(float* p, const float* g, float* m, float* v, int64_t lo, int64_t hi, const RadamArgs& a,
                               const RadamTensor& t) {
  if (t.rect) radam_loop<true>(p, g, m, v, lo, hi, a, t); else radam_loop<false>(p, g, m, v, lo, hi, a, t);
}

void radam_step(std::vector<at::Tensor> params, std::vector<at::Tensor> grads, std::vector<at::Tensor> exp_avgs,
                std::vector<at::Tensor> exp_avg_sqs, std::vector<at::Tensor> steps, double lr, double beta1,
                double beta2, double eps, double weight_decay, bool decoupled, bool maximize) {
  check_list(params, params, "params"); check_list(grads, params, "grads");
  check_list(exp_avgs, params, "exp_avg"); check_list(exp_avg_sqs, params, "exp_avg_sq");
  count_steps(steps, params.size());
  RadamArgs a{float(1 - beta1), float(1 - beta2), float(beta2), float(eps), float(weight_decay),
              float(1 - lr * weight_decay), weight_decay != 0 && !decoupled, weight_decay != 0 && decoupled, maximize};
  const int64_t n = params.size();
  const double rho_inf = 2 / (1 - beta2) - 1;
  std::vector<RadamTensor> ts(n);
  std::vector<int64_t> numels(n);
  for (int64_t i = 0; i < n; ++i) {
    double t = *steps[i].data_ptr<float>(), b2t = std::pow(beta2, t), bc1 = 1 - std::pow(beta1, t);
    double rho_t = rho_inf - 2 * t * b2t / (1 - b2t);   // Python's order of operations, in double, as torch's
    double rect = 0.0;
    if (rho_t > 5) rect = std::pow((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t), 0.5);
    double unrect = rect > 0 ? 0.0 : 1.0;
    ts[i] = RadamTensor{float(std::pow(1 - b2t, 0.5) * (lr * rect / bc1) * -1), float((lr * unrect / bc1) * -1),
                        rect > 0};
    numels[i] = params[i].numel();
  }
  for_ranges(numels, [&](int64_t i, int64_t lo, int64_t hi) {
    radam_range(params[i].data_ptr<float>(), grads[i].data_ptr<float>(), exp_avgs[i].data_ptr<float>(),
                exp_avg_sqs[i].data_ptr<float>(), lo, hi, a, ts[i]);
  });
}

// ---- stochastic rounding on its own, for tests and the lesson -----------------------------------------------------
at::Tensor round_bf16_stochastic(const at::Tensor& x, int64_t seed) {
  TORCH_CHECK(x.device().is_cpu() && x.scalar_type() == at::kFloat,
              "round_bf16_stochastic: x must be a float32 CPU tensor");
  auto src = x.contiguous();
  auto out = at::empty(src.sizes(), src.options().dtype(at::kBFloat16));
  const float* s = src.data_ptr<float>();
  uint16_t* o = reinterpret_cast<uint16_t*>(out.data_ptr<at::BFloat16>());
  const uint32_t sd = mix32(uint32_t(seed));
  for (int64_t i = 0; i < src.numel(); ++i) o[i] = float_to_bf16_sr(s[i], sd, uint32_t(i));
  return out;
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("fusable", &fusable, "Whether the kernels take these params and grads (contiguous float32 CPU tensors)");
  m.def("sgd_step", &sgd_step, "SGD (momentum, Nesterov, L2 or decoupled decay) on lists of float32 CPU tensors");
  m.def("adam_step", &adam_step, "Adam/AdamW (AMSGrad, maximize) on lists of float32 CPU params, float32 or bf16 state");
  m.def("lion_step", &lion_step, "Lion on lists of float32 CPU tensors");
  m.def("rmsprop_step", &rmsprop_step, "RMSprop (centered, momentum, L2 decay) as torch's foreach step, float32 CPU");
  m.def("radam_step", &radam_step, "RAdam (L2 or decoupled decay, rectification per tensor) as torch's foreach step");
  m.def("round_bf16_stochastic", &round_bf16_stochastic, "float32 -> bfloat16, rounded up or down at random, unbiased");
}
