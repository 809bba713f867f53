"""Benchmark: the step time of slowai's Lion, SFAdamW and Muon against their reference implementations and torch's foreach AdamW.

Not a test: timings depend on the machine and on what else runs on it. All the variants of one optimiser on one
parameter set are timed in the same run, round-robin (one step of each in turn), so they see the same machine;
the table reports medians and ratios. Two parameter sets:

- `cnn`: the lesson CNN (`slowai.models.get_cnn`, about 30k params in a dozen tensors): per-call overhead dominates;
- `resnet18`: the parameter shapes of torchvision's ResNet-18 (11.7M params in 62 tensors): memory bandwidth dominates
  the element-wise optimisers, matrix products (Newton-Schulz) dominate Muon.

slowai's Lion steps with its fused C++ kernel by default (lesson 20; 'slowai foreach' is its multi-tensor path);
SFAdamW and Muon have no fused kernel. References: `lion_pytorch.Lion` (its default loop) and `lion_pytorch.foreach.Lion`; `schedulefree.AdamWScheduleFree`
with foreach on and off; for Muon, `torch.optim.Muon` on the weights with 2 or more dims (given to it flattened to
2-D, which is all it accepts) plus `torch.optim.AdamW` (foreach) on the rest, the same split `muon_param_groups` makes.
Every optimiser is also compared with torch's foreach AdamW on the whole set, the usual default.

Muon's step costs a few matrix products per weight, in bfloat16 as PyTorch does them. On a CPU without bfloat16
arithmetic (AVX2 only) those products are some 30-50x slower than in float32: minutes per step on the ResNet-18 set.
So Muon is also timed with `ns_dtype=torch.float32` ('slowai fp32 NS'), and on the ResNet-18 set the bfloat16 variants
(slowai's and the reference) run only with `--slow`. Timed rounds stop after `--budget` seconds (at least 3; 1 with `--slow`).

    python bench/modern.py [--sets cnn,resnet18] [--opts Lion,SFAdamW,Muon] [--reps 15] [--budget 20] [--threads N] [--slow]
"""
import argparse, statistics, time
from functools import partial
import torch
from slowai.modern import Lion, SFAdamW, Muon
from optimizers import make_params, param_shapes  # bench/optimizers.py, beside this script

def in_train_mode(opt):
    "A schedule-free optimiser switched to train mode, ready to step."
    opt.train()
    return opt

def muon_split(params):
    "Muon's two groups for a flat list of params: weights with >= 2 dims except the last one (the output layer), and the rest."
    head = max(i for i, p in enumerate(params) if p.ndim >= 2)
    return ([p for i, p in enumerate(params) if p.ndim >= 2 and i != head], [p for i, p in enumerate(params) if p.ndim < 2 or i == head])

class TorchMuonAdamW:
    "The reference Muon setup: `torch.optim.Muon` on 2-D views of the hidden weights, foreach `torch.optim.AdamW` on the rest."
    def __init__(self, params, lr, adamw_lr):
        hidden, rest = muon_split(params)
        flat = [torch.nn.Parameter(p.detach().reshape(len(p), -1).clone()) for p in hidden]
        for f, p in zip(flat, hidden): f.grad = p.grad.reshape(len(p), -1).clone()
        self.muon, self.adamw = torch.optim.Muon(flat, lr=lr, weight_decay=0.), torch.optim.AdamW(rest, lr=adamw_lr, weight_decay=0., foreach=True)
    def step(self): self.muon.step(); self.adamw.step()

def slowai_muon(params, foreach=None, lr=0.02, adamw_lr=3e-3, ns_dtype=torch.bfloat16):
    "slowai's Muon with the same two groups as the reference."
    hidden, rest = muon_split(params)
    return Muon([dict(params=hidden), dict(params=rest, use_muon=False, lr=adamw_lr)], lr=lr, weight_decay=0., ns_dtype=ns_dtype, foreach=foreach)

def variants(name: str, bf16_muon: bool = True) -> dict:
    "Constructors `params -> optimiser` of every variant of optimiser `name` to time."
    import lion_pytorch, lion_pytorch.foreach, schedulefree
    adamw = {'torch AdamW foreach': partial(torch.optim.AdamW, lr=1e-3, foreach=True)}
    if name == 'Lion':
        return {'slowai': partial(Lion, lr=1e-4), 'slowai foreach': partial(Lion, lr=1e-4, foreach=True),
                'slowai single': partial(Lion, lr=1e-4, foreach=False),
                'ref': partial(lion_pytorch.Lion, lr=1e-4), 'ref foreach': partial(lion_pytorch.foreach.Lion, lr=1e-4), **adamw}
    if name == 'SFAdamW':
        return {'slowai': lambda ps: in_train_mode(SFAdamW(ps)), 'slowai single': lambda ps: in_train_mode(SFAdamW(ps, foreach=False)),
                'ref': lambda ps: in_train_mode(schedulefree.AdamWScheduleFree(ps, foreach=False)),
                'ref foreach': lambda ps: in_train_mode(schedulefree.AdamWScheduleFree(ps, foreach=True)), **adamw}
    if name == 'Muon':
        bf16 = {'slowai': slowai_muon, 'slowai single': partial(slowai_muon, foreach=False),
                'ref': partial(TorchMuonAdamW, lr=0.02, adamw_lr=3e-3)} if bf16_muon else {}
        return {**bf16, 'slowai fp32 NS': partial(slowai_muon, ns_dtype=torch.float32), **adamw}
    raise ValueError(f"unknown optimiser {name!r}: use Lion, SFAdamW or Muon")

def time_variants(makers: dict, shapes, reps: int, budget: float, warmup: int = 1, min_reps: int = 3) -> dict:
    "Median step time (s) and step count of each variant, timed round-robin for `reps` rounds or until `budget` seconds have passed (at least `min_reps`)."
    opts = {k: make(make_params(shapes)) for k, make in makers.items()}
    for o in opts.values():
        for _ in range(warmup): o.step()
    times, t0 = {k: [] for k in opts}, time.perf_counter()
    for i in range(reps):
        if i >= min_reps and time.perf_counter() - t0 > budget: break
        for k, o in opts.items():
            t = time.perf_counter(); o.step(); times[k].append(time.perf_counter() - t)
    return {k: (statistics.median(v), len(v)) for k, v in times.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sets', default='cnn,resnet18')
    p.add_argument('--opts', default='Lion,SFAdamW,Muon')
    p.add_argument('--reps', type=int, default=15, help='timed rounds per optimiser and set (default 15)')
    p.add_argument('--budget', type=float, default=20., help='stop timing an optimiser after this many seconds, once it has 3 rounds (default 20)')
    p.add_argument('--threads', type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    p.add_argument('--slow', action='store_true', help='also time bfloat16 Muon (slowai and reference) on resnet18: one step each, minutes on AVX2-only CPUs')
    args = p.parse_args()
    if args.threads: torch.set_num_threads(args.threads)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads; median step time in ms (timed steps in brackets)\n')
    cols = ['slowai', 'slowai foreach', 'slowai single', 'ref', 'ref foreach', 'slowai fp32 NS', 'torch AdamW foreach']
    ratios = {'slowai/ref': ('slowai', 'ref'), 'slowai/ref foreach': ('slowai', 'ref foreach'), 'slowai/AdamW': ('slowai', 'torch AdamW foreach'),
              'fp32 NS/AdamW': ('slowai fp32 NS', 'torch AdamW foreach')}
    for set_name in args.sets.split(','):
        shapes = param_shapes(set_name)
        print(f'== {set_name}: {sum(s.numel() for s in shapes):,} params in {len(shapes)} tensors')
        print(f"{'optimiser':<9} " + ' '.join(f'{c:>19}' for c in cols) + ' ' + ' '.join(ratios))
        for name in args.opts.split(','):
            slow = set_name == 'resnet18' and name == 'Muon'
            if slow and not args.slow: print('  (Muon on resnet18: bfloat16 variants skipped, run with --slow to time them)')
            t = time_variants(variants(name, bf16_muon=not slow or args.slow), shapes, args.reps, args.budget,
                              warmup=0 if slow and args.slow else 1, min_reps=1 if slow and args.slow else 3)
            cell = lambda c: f"{t[c][0] * 1e3:>14.2f} ({t[c][1]:>2})" if c in t else f"{'-':>19}"
            ratio = lambda a, b: f"{t[a][0] / t[b][0]:.2f}x" if a in t and b in t else '-'
            print(f'{name:<9} ' + ' '.join(cell(c) for c in cols) + ' ' + ' '.join(f'{ratio(*ab):>{len(k)}}' for k, ab in ratios.items()), flush=True)
        print()

if __name__ == '__main__':
    main()
