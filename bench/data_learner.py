"""Benchmark: the device-resident loader vs a DataLoader over the HF-format dataset, and the Learner vs a plain loop.

Not a test: timings depend on the machine. Both sides of each ratio are measured in the same run, interleaved,
and the medians compared. Usage:

    python bench/data_learner.py [--data FOLDER] [--device cpu] [--reps 3] [--bs 256]
"""
import argparse, contextlib, io, statistics, time
from functools import partial
import numpy as np
import torch
import torch.nn.functional as F
from slowai.core import default_device, set_seed
from slowai.data import FASHION_CLASSES, get_dls, hf_dataloader, load_fashion_mnist, split_train_valid
from slowai.learner import train
from slowai.models import get_cnn

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize()

def timed(f, device):
    sync(device); t = time.perf_counter(); f(); sync(device)
    return time.perf_counter() - t

def hf_train_split(data, idx):
    "The training split as a Hugging Face `Dataset` of PNG-encoded images, the format the hub serves."
    import datasets
    feats = datasets.Features({'image': datasets.Image(), 'label': datasets.ClassLabel(names=FASHION_CLASSES)})
    return datasets.Dataset.from_dict({'image': list(data['x_train'][idx].numpy()), 'label': data['y_train'][idx].tolist()}, features=feats)

def plain_epoch(model, opt, dls, device):
    "One epoch of a hand-written loop: train pass with steps, then a valid pass with loss and accuracy."
    model.train()
    for xb, yb in dls.train:
        xb, yb = xb.to(device), yb.to(device)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    model.eval()
    tot, correct, n = 0., 0, 0
    with torch.no_grad():
        for xb, yb in dls.valid:
            preds = model(xb.to(device)); yb = yb.to(device)
            tot += F.cross_entropy(preds, yb).float() * len(yb); correct += (preds.argmax(1) == yb).sum(); n += len(yb)
    return float(tot) / n, float(correct) / n

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--data', default=None); p.add_argument('--device', default=None)
    p.add_argument('--reps', type=int, default=3); p.add_argument('--bs', type=int, default=256)
    args = p.parse_args()
    device = default_device(args.device)
    print(f'device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, bs {args.bs}')
    data = load_fashion_mnist(args.data)
    dls = get_dls(bs=args.bs, device=device, data=data)
    tr, _ = split_train_valid(len(data['x_train']))
    t = time.perf_counter(); hf_ds = hf_train_split(data, tr); print(f'built the HF-format train split in {time.perf_counter() - t:.1f}s')
    hf_dl = hf_dataloader(hf_ds, bs=args.bs, shuffle=True, stats=dls.stats)

    # 1. Loader alone: one pass over the 50k training images, batches moved to the device.
    def drain(dl):
        for xb, yb in dl: xb.to(device), yb.to(device)
    dev_t, hf_t = [], []
    for _ in range(args.reps):
        dev_t.append(timed(lambda: drain(dls.train), device)); hf_t.append(timed(lambda: drain(hf_dl), device))
    d, h = statistics.median(dev_t), statistics.median(hf_t)
    print(f'\nloader epoch (data only):  device-resident {d*1000:8.1f} ms   DataLoader over HF dataset {h*1000:8.1f} ms   ratio {h/d:6.1f}x')

    # 1b. The same with the lesson CNN training on it: what a user sees per epoch.
    def train_on(dl):
        model = get_cnn().to(device); opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for xb, yb in dl:
            loss = F.cross_entropy(model(xb.to(device)), yb.to(device)); loss.backward(); opt.step(); opt.zero_grad()
    set_seed(0); d2 = timed(lambda: train_on(dls.train), device); h2 = timed(lambda: train_on(hf_dl), device)
    print(f'training epoch, lesson CNN: device-resident {d2:8.2f} s    DataLoader over HF dataset {h2:8.2f} s    ratio {h2/d2:6.2f}x')

    # 2. Learner vs plain loop: same model, data and optimiser, one epoch (train + valid) each, interleaved.
    learner_t, plain_t = [], []
    for _ in range(args.reps):
        set_seed(0); model = get_cnn().to(device); opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        plain_t.append(timed(lambda: plain_epoch(model, opt, dls, device), device))
        set_seed(0)
        with contextlib.redirect_stdout(io.StringIO()):  # the Learner's table is not part of the comparison's output
            learner_t.append(timed(lambda: train(get_cnn(), dls, lr=0.1, n_epochs=1, opt_func=partial(torch.optim.SGD, momentum=0.9),
                                                 device=device), device))
    l, pl = statistics.median(learner_t), statistics.median(plain_t)
    print(f'epoch, train() vs plain loop: Learner {l:8.2f} s    plain loop {pl:8.2f} s    overhead {100*(l/pl - 1):+5.1f}%')

if __name__ == '__main__': main()
