"""Experiment: the accuracy cost of keeping AdamW's moments in bfloat16 (stochastic rounding) on lesson 16's ResNet.

Not a test: a training run of several minutes per epoch on a CPU. Two arms, identical except for the optimiser
state: slowai's `AdamW` with its fused kernel (lesson 20) keeping `exp_avg` and `exp_avg_sq` in float32 (bitwise
torch's fused AdamW) or in bfloat16 with stochastic rounding (`state_dtype=torch.bfloat16`). The recipe is lesson 16's
(`get_resnet`, AdamW with weight decay 0.05, batch size 256, 1cycle peaking at 1e-2, shift-and-flip augmentation, the
50,000 training images, validated on the 10,000 held out), with a shorter budget: `--epochs` (default 4; the 1cycle
schedule is laid out over that budget, so each run is a complete, shorter 1cycle run, not the first epochs of the
20-epoch one). Same seed, so both arms see the same initial weights, batches and augmentations; the only difference is
the rounding of the state.

The two arms run side by side in two processes (`--jobs 2`, the default) with `--threads` torch threads each, so that
they share whatever else the machine is doing; `--jobs 1` runs them one after the other. Each prints its epochs as they
finish; at the end the table gives both arms' validation accuracies per seed and their difference.

    python bench/bf16_state.py [--epochs 4] [--seeds 42] [--jobs 2] [--threads 1] [--subsample N]
"""
import argparse, multiprocessing as mp, statistics, time
from functools import partial
import torch

ARMS = {'float32': None, 'bfloat16': torch.bfloat16}

def run_arm(arm: str, seed: int, epochs: int, threads: int, subsample: int = None) -> list:
    "Validation accuracy after each epoch of lesson 16's recipe with AdamW state in `ARMS[arm]`."
    from slowai.adam import AdamW
    from slowai.data import get_dls
    from slowai.onecycle import train_1cycle
    from slowai.resnet import get_resnet, random_shift_flip
    from slowai.core import set_seed
    torch.set_num_threads(threads)
    dls = get_dls(bs=256, subsample=subsample, batch_tfm=random_shift_flip)
    set_seed(seed)
    model = get_resnet()
    opt_func = partial(AdamW, weight_decay=0.05, fused=True, state_dtype=ARMS[arm])
    t0 = time.time()
    learn = train_1cycle(model, dls, lr_max=1e-2, n_epochs=epochs, opt_func=opt_func, seed=seed)
    accs = [h['valid_acc'] for h in learn.history]
    dtypes = {str(v.dtype) for st in learn.opt.state.values() for k, v in st.items() if k != 'step'}
    print(f'[{arm}, seed {seed}, state {", ".join(sorted(dtypes))}] valid acc per epoch: ' + ' '.join(f'{a:.4f}' for a in accs)
          + f' ({time.time() - t0:.0f} s)', flush=True)
    return accs

def _job(args): return args[:2], run_arm(*args)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--epochs', type=int, default=4)
    p.add_argument('--seeds', default='42', help='comma-separated seeds: one run of each arm per seed')
    p.add_argument('--jobs', type=int, default=2, help='arms trained at the same time, in separate processes')
    p.add_argument('--threads', type=int, default=1, help='torch threads per process')
    p.add_argument('--subsample', type=int, default=None, help='train on this many images (a quick smoke run)')
    args = p.parse_args()
    work = [(arm, int(s), args.epochs, args.threads, args.subsample) for s in args.seeds.split(',') for arm in ARMS]
    if args.jobs > 1:
        with mp.get_context('spawn').Pool(args.jobs) as pool: results = dict(pool.map(_job, work, chunksize=1))
    else: results = dict(map(_job, work))
    print(f'\n{args.epochs} epochs, 1cycle, AdamW (wd 0.05), bs 256; final validation accuracy')
    print(f"{'seed':>6} {'float32 state':>14} {'bf16 state':>11} {'bf16 - fp32':>12}")
    diffs = []
    for s in args.seeds.split(','):
        a, b = results[('float32', int(s))][-1], results[('bfloat16', int(s))][-1]
        diffs.append(b - a)
        print(f'{s:>6} {a:>14.4f} {b:>11.4f} {b - a:>+12.4f}')
    if len(diffs) > 1: print(f"{'mean':>6} {'':>14} {'':>11} {statistics.mean(diffs):>+12.4f}")

if __name__ == '__main__':
    main()
