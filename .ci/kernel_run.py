"""Run every lesson top to bottom in a real Jupyter kernel (nbclient + ipykernel), as a reader's "Run all" does,
in test mode (`IN_TEST=1`, which `slowai.core.in_test_mode` reads, so the lessons train on subsamples).

`nbdev_test` runs cells in an in-process shell and skips every cell flagged with one of settings.ini's `tst_flags`
(`notest slow cuda`), so a cell that fails under "Run all" on a CPU can hide behind a flag. Here only the flags in
`KERNEL_SKIP` are skipped, decided per flag:

- `slow`: takes minutes of CPU or needs a C++ toolchain (today one cell: `torch.compile` in 02_learner); skipped.
- `notest`: not meant to run under test at all; skipped.
- `cuda`: runs. A cuda cell must guard itself (`if torch.cuda.is_available(): ...`) and print one line saying what it
  would show on a GPU, so that "Run all" on a CPU runtime passes it.

A notebook fails on any error output and on any stderr output that a reader would have to interpret (a Python
warning, a traceback, a glog-style `W1123 12:28:33...` line from torch). The kernel runs with matplotlib's default
inline backend, as a reader's does (`MPLBACKEND` is dropped). Notebooks run `--jobs` at a time (default 2), one
thread each (`OMP_NUM_THREADS=1`). Kernels start with SIGINT blocked, as some CI runners start jobs (a child inherits
the mask), so a lesson that sends Ctrl-C to a process it starts must unblock it there, as a shell would. Prints one
line per notebook, `ok NAME ...` or `FAIL NAME: why`, and a summary; exits 1 if any failed.

Usage (from the repository root): python .ci/kernel_run.py [NOTEBOOK ...] [--jobs 2] [--timeout 600]"""
import argparse, os, re, signal, sys, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

KERNEL_SKIP = {'slow', 'notest'}
LONGEST = ('22_speedrun', '21_distributed', '23_cli', '16_resnet')  # started first, so the workers finish together
NOISE_RE = re.compile(r'Warning|Traceback|^[WE]\d{4} \d\d:\d\d:\d\d', re.M)

def skip_reason(cell):
    "Why the kernel run skips `cell` (as nbdev_test would, for `KERNEL_SKIP` flags and `eval: false`), or None to run it."
    from nbdev.process import extract_directives
    if cell.cell_type != 'code': return None
    direc = extract_directives(cell, remove=False) or {}
    if direc.get('eval:', [''])[0].lower() == 'false': return 'eval: false'
    flags = KERNEL_SKIP & direc.keys()
    return ' '.join(sorted(flags)) or None

def skip_notebook(fn) -> bool:
    "True if the notebook's front matter says `skip_exec: true`, which nbdev_test honours too."
    from fastcore.basics import str2bool
    from nbdev.frontmatter import FrontmatterProc
    from nbdev.process import NBProcessor
    fm = getattr(NBProcessor(fn, procs=FrontmatterProc, process=True).nb, 'frontmatter_', {}) or {}
    return str2bool(fm.get('skip_exec', False))

def noise(cell) -> list:
    "The error outputs and the stderr lines a reader would have to interpret in `cell`'s outputs."
    found = []
    for o in cell.get('outputs', []):
        if o.output_type == 'error': found.append(f"{o.ename}: {o.evalue}")
        elif o.output_type == 'stream' and o.name == 'stderr' and NOISE_RE.search(o.text):
            found.append(next(l for l in o.text.splitlines() if NOISE_RE.search(l)).strip())
    return found

def block_sigint():
    "Block SIGINT in this worker, and so in the kernels it starts (Ctrl-C still stops the main process)."
    if hasattr(signal, 'pthread_sigmask'): signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])

def run_one(fn: str, timeout: int) -> tuple:
    "Execute the notebook `fn` in a fresh kernel; return (name, ok, seconds, message)."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from jupyter_client import KernelManager
    os.environ.pop('MPLBACKEND', None)  # a reader's kernel plots inline; Agg would warn on plt.show()
    fn = Path(fn).resolve()
    if skip_notebook(fn): return fn.name, True, 0., ' (skip_exec)'
    nb = nbformat.read(fn, as_version=4)
    skipped = {}
    for i, cell in enumerate(nb.cells):
        why = skip_reason(cell)
        if why: skipped[i] = why
    ran = nbformat.v4.new_notebook(metadata=nb.metadata)
    idx = [i for i in range(len(nb.cells)) if i not in skipped]
    ran.cells = [nb.cells[i] for i in idx]
    for c in ran.cells:
        if c.cell_type == 'code': c.outputs = []
    # IPC sockets in a private folder (POSIX): no TCP ports to race for between parallel kernels, no plain-text-TCP warning
    sockets = tempfile.TemporaryDirectory(prefix='slowai-kernel-')
    km = (KernelManager(kernel_name='python3', transport='ipc', ip=str(Path(sockets.name)/'k')) if os.name == 'posix'
          else KernelManager(kernel_name='python3'))
    client = NotebookClient(ran, km=km, timeout=timeout, kernel_name='python3', allow_errors=False,
                            resources={'metadata': {'path': str(fn.parent)}})
    t0 = time.time()
    msg = ''
    try: client.execute()
    except CellExecutionError as e: msg = str(e).strip().splitlines()[-1]
    except Exception as e: msg = f'{type(e).__name__}: {e}'
    finally:  # nbclient leaves a kernel it was handed running: stop it here
        if client.kc is not None: client.kc.stop_channels()
        if km.has_kernel: km.shutdown_kernel(now=True)
        sockets.cleanup()
    secs = time.time() - t0
    problems = [(idx[j], n) for j, c in enumerate(ran.cells) for n in noise(c)]
    if problems: msg = '; '.join(f'cell {i}: {n}' for i, n in problems[:3]) + (f' (+{len(problems) - 3} more)' if len(problems) > 3 else '')
    note = f" (skipped {', '.join(f'cell {i} [{w}]' for i, w in skipped.items())})" if skipped else ''
    return fn.name, not msg, secs, msg or note

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default: nbs/*.ipynb, as nbdev_test picks them)')
    ap.add_argument('--jobs', type=int, default=2, help='notebooks at a time (default 2)')
    ap.add_argument('--timeout', type=int, default=600, help='seconds one cell may take (default 600)')
    args = ap.parse_args()
    fns = args.notebooks or sorted(str(p) for p in Path('nbs').glob('*.ipynb') if not p.name.startswith(('_', '.')))
    fns.sort(key=lambda f: Path(f).stem not in LONGEST)  # stable: the longest first, then the rest in order
    os.environ['IN_TEST'] = '1'
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    t0, failed = time.time(), 0
    with ProcessPoolExecutor(max_workers=args.jobs, initializer=block_sigint) as ex:
        for name, ok, secs, msg in ex.map(run_one, fns, [args.timeout] * len(fns)):
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: {secs:.0f} s{msg if ok else ': ' + msg}", flush=True)
    print(f'kernel run: {len(fns) - failed} of {len(fns)} notebooks passed in {time.time() - t0:.0f} s')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
