"""Benchmark: the step time of every slowai optimiser against torch.optim's single-tensor, foreach and fused versions.

Not a test: timings depend on the machine and on what else runs on it. All the variants of one optimiser on one
parameter set are timed in the same run, round-robin (one step of each in turn), so they see the same machine;
the table reports medians and their ratios. Three parameter sets:

- `cnn`: the lesson CNN (`slowai.models.get_cnn`, about 30k params in a dozen tensors): per-call overhead dominates;
- `resnet18`: the parameter shapes of torchvision's ResNet-18 (11.7M params in 62 tensors): memory bandwidth dominates;
- `many`: 1000 tensors of 1000 elements: per-tensor overhead dominates.

The memory-bandwidth bound is the time to read and write the bytes the step must touch (e.g. Adam reads the param,
grad, exp_avg and exp_avg_sq and writes back three of them: 7 x 4 = 28 bytes per float32 param), at the bandwidth
of a large in-place add measured on the spot (`slowai.fused.memory_bandwidth`, `slowai.fused.STEP_BYTES`).

Columns: torch's three paths (torch has no fused RMSprop or RAdam: '-'); slowai's fused C++ kernel (lesson 20, built
on first use), its foreach and single-tensor paths; the stepper (lesson 08). Ratios: slowai fused / torch fused,
slowai fused / torch foreach (what decides whether `fused=None` picks the kernel where torch has none), slowai fused /
bound, slowai foreach / torch foreach.

By default everything runs on one CPU thread, then on two. On a small shared machine (two cores, other jobs running)
torch's intra-op threads spend more time waiting for each other than working, and the timings of small tensors become
noise; on one thread they are stable. `--threads 1,2` (the default) runs the whole table once per thread count (the
bound is measured with the same threads).

`torch.compile` is not offered: on this CPU a compiled `torch.optim.Adam` foreach step on the ResNet-18 set took
about 90 ms after a 50 s compilation, against 25 ms for the fused kernel, and slowai's step (Python float step
counts) recompiles whenever a count changes.

    python bench/optimizers.py [--sets cnn,resnet18,many] [--opts SGD,Momentum,...] [--reps 11] [--threads 1,2]
"""
import argparse, statistics, time
from functools import partial
import torch
from slowai.sgd import SGD
from slowai.momentum import Momentum
from slowai.rmsprop import RMSprop
from slowai.adam import Adam, AdamW, RAdam
from slowai.stepper import sgd_opt, momentum_opt, rmsprop_opt, adam_opt, adamw_opt, radam_opt
from slowai.fused import STEP_BYTES, memory_bandwidth

# name: (slowai class, torch class, stepper constructor, hyper-parameters, bytes moved per param by the step)
OPTIMISERS = {
    'SGD':      (SGD, torch.optim.SGD, sgd_opt, dict(lr=1e-2, weight_decay=1e-4), STEP_BYTES['SGD']),     # r p,g  w p
    'Momentum': (Momentum, torch.optim.SGD, momentum_opt, dict(lr=1e-2, momentum=0.9, weight_decay=1e-4), STEP_BYTES['Momentum']),
    'RMSprop':  (RMSprop, torch.optim.RMSprop, rmsprop_opt, dict(lr=1e-3), STEP_BYTES['RMSprop']),     # r p,g,v  w p,v
    'Adam':     (Adam, torch.optim.Adam, adam_opt, dict(lr=1e-3), STEP_BYTES['Adam']),                # r p,g,m,v  w p,m,v
    'AdamW':    (AdamW, torch.optim.AdamW, adamw_opt, dict(lr=1e-3, weight_decay=1e-2), STEP_BYTES['AdamW']),
    'RAdam':    (RAdam, torch.optim.RAdam, radam_opt, dict(lr=1e-3), STEP_BYTES['RAdam']),
}

def param_shapes(name: str) -> list:
    "The parameter shapes of one of the three benchmark sets."
    if name == 'cnn':
        from slowai.models import get_cnn
        return [p.shape for p in get_cnn().parameters()]
    if name == 'resnet18':
        import torchvision
        return [p.shape for p in torchvision.models.resnet18().parameters()]
    if name == 'many': return [torch.Size([1000])] * 1000
    raise ValueError(f"unknown parameter set {name!r}: use cnn, resnet18 or many")

def make_params(shapes, seed=0) -> list:
    "Fresh float32 params of `shapes` with random grads (each variant gets its own, so none can disturb another)."
    gen = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(s, generator=gen) * 0.1) for s in shapes]
    for p in params: p.grad = torch.randn(p.shape, generator=gen) * 1e-2
    return params

def variants(name: str) -> dict:
    "Constructors `params -> optimiser` of every variant of optimiser `name` to time."
    ours, theirs, stepper, hypers, _ = OPTIMISERS[name]
    vs = {'torch single': partial(theirs, foreach=False, **hypers), 'torch foreach': partial(theirs, foreach=True, **hypers),
          'torch fused': partial(theirs, fused=True, **hypers) if 'fused' in theirs.__init__.__code__.co_varnames else None,
          'slowai fused': partial(ours, fused=True, **hypers),
          'slowai foreach': partial(ours, foreach=True, **hypers), 'slowai single': partial(ours, foreach=False, **hypers),
          'stepper': partial(stepper, **hypers)}
    return vs

def time_variants(makers: dict, shapes, reps: int, warmup: int = 3, min_secs: float = 1.) -> dict:
    "Median step time (s) of each optimiser variant, timed round-robin; `None` where the variant is not available here."
    opts, slowest = {}, 0.
    for k, make in makers.items():
        if make is None: opts[k] = None; continue
        try:
            opts[k] = make(make_params(shapes))
            for _ in range(warmup): opts[k].step()
            t = time.perf_counter(); opts[k].step(); slowest = max(slowest, time.perf_counter() - t)
        except (RuntimeError, ValueError, TypeError) as e:   # e.g. a fused kernel missing for this device
            print(f'  {k}: not available ({type(e).__name__}: {str(e).splitlines()[0][:80]})')
            opts[k] = None
    times = {k: [] for k, o in opts.items() if o is not None}
    for _ in range(max(reps, min(300, int(min_secs / slowest)))):  # fast steps: more repetitions, at least `min_secs` each
        for k in times:
            t = time.perf_counter(); opts[k].step(); times[k].append(time.perf_counter() - t)
    return {k: statistics.median(times[k]) if k in times else None for k in opts}

def run(args, threads: int) -> list:
    "Print the table for one thread count; return its rows (set, optimiser, medians, bound)."
    torch.set_num_threads(threads)
    bw = memory_bandwidth()
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads, memory bandwidth (in-place add) {bw / 1e9:.1f} GB/s\n')
    cols = ['torch single', 'torch foreach', 'torch fused', 'slowai fused', 'slowai foreach', 'slowai single', 'stepper']
    ratios = {'fused/torch fused': ('slowai fused', 'torch fused'), 'fused/torch foreach': ('slowai fused', 'torch foreach'),
              'fused/bound': ('slowai fused', 'bound'), 'foreach/torch foreach': ('slowai foreach', 'torch foreach')}
    rows = []
    for set_name in args.sets.split(','):
        shapes = param_shapes(set_name)
        n = sum(s.numel() for s in shapes)
        print(f'== {set_name}: {n:,} params in {len(shapes)} tensors')
        print(f"{'optimiser':<9} {'bound':>7} " + ' '.join(f'{c:>14}' for c in cols) + ' ' + ' '.join(f'{r:>18}' for r in ratios))
        for name in args.opts.split(','):
            t = time_variants(variants(name), shapes, args.reps)
            t['bound'] = OPTIMISERS[name][4] * n / bw
            ms = lambda v: f'{v * 1e3:>14.3f}' if v is not None else f"{'-':>14}"
            ratio = lambda a, b: f'{t[a] / t[b]:.2f}x' if t.get(a) is not None and t.get(b) is not None else '-'
            print(f"{name:<9} {t['bound'] * 1e3:>7.3f} " + ' '.join(ms(t[c]) for c in cols) + ' ' +
                  ' '.join(f'{ratio(*ab):>18}' for ab in ratios.values()), flush=True)
            rows.append((set_name, name, t))
        print()
    fused = [r[2]['slowai fused'] / r[2]['torch fused'] for r in rows if r[2].get('slowai fused') and r[2].get('torch fused')]
    if fused: print(f'{threads} thread(s), times in ms (medians); slowai fused / torch fused: median {statistics.median(fused):.2f}x, '
                    f'worst {max(fused):.2f}x\n')
    return rows

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sets', default='cnn,resnet18,many')
    p.add_argument('--opts', default=','.join(OPTIMISERS))
    p.add_argument('--reps', type=int, default=11, help='timed steps per variant at least (default 11; fast steps get more)')
    p.add_argument('--threads', default='1,2', help='torch intra-op threads, a comma-separated list: one table each (default 1,2)')
    args = p.parse_args()
    for threads in map(int, args.threads.split(',')): run(args, threads)

if __name__ == '__main__':
    main()
