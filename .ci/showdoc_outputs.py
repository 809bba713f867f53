"""Keep the saved outputs of the notebooks' `show_doc(...)` cells what `show_doc` shows now: the renderer named in
settings.ini (`renderer`, lesson 00's `ParamTableRenderer`) draws each symbol's signature and parameter table. The
pages re-run these cells when they are built, but a reader of the notebook sees the saved output, which goes stale
when the renderer or a docstring or signature changes. This renders each one again (in `nbs/`, as a kernel there
would) and writes it in place of the saved one; `--check` only says which are stale.

Usage: python .ci/showdoc_outputs.py [--check] [NOTEBOOK ...]   (from the repository root; default: every notebook)"""
import importlib, json, os, pkgutil, re, sys
from pathlib import Path

SHOW_DOC = re.compile(r'^show_doc\(([\w.]+)\)$')

def resolve(name: str, modules: list):
    "The object `name` (say `SFAdamW.train`) names in the first of `modules` that has its first part."
    first, *rest = name.split('.')
    for m in modules:
        if hasattr(m, first):
            o = getattr(m, first)
            for r in rest: o = getattr(o, r)
            return o
    raise NameError(f'{name} is in no slowai module')

def refresh(fn: Path, check: bool) -> list:
    "Render every `show_doc(name)` cell of `fn` again; write the notebook unless `check`; return the stale cells."
    from IPython.core.interactiveshell import InteractiveShell
    from nbdev.showdoc import show_doc
    import slowai
    fmt = InteractiveShell.instance().display_formatter
    mods = [importlib.import_module(f'slowai.{m.name}') for m in pkgutil.iter_modules(slowai.__path__)]
    nb = json.loads(fn.read_text(encoding='utf-8'))
    src0 = ''.join(nb['cells'][0]['source']) if nb['cells'] else ''
    m = re.search(r'#\|\s*default_exp\s+(\S+)', src0)
    if m: mods.insert(0, importlib.import_module(f'slowai.{m.group(1)}'))
    stale = []
    for i, cell in enumerate(nb['cells']):
        name = SHOW_DOC.match(''.join(cell['source']).strip()) if cell['cell_type'] == 'code' else None
        if not name: continue
        data, _ = fmt.format(show_doc(resolve(name.group(1), mods)))
        data = {k: v.splitlines(True) for k, v in sorted(data.items())}
        old = [o.get('data') for o in cell.get('outputs', [])]
        if old == [data]: continue
        stale.append(f'{fn.name} cell {i}: show_doc({name.group(1)})')
        cell['outputs'] = [{'data': data, 'execution_count': None, 'metadata': {}, 'output_type': 'execute_result'}]
    if stale and not check: fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return stale

if __name__ == '__main__':
    args = sys.argv[1:]
    check = '--check' in args
    fns = [Path(a).resolve() for a in args if a != '--check'] or sorted(Path('nbs').resolve().glob('*.ipynb'))
    os.chdir('nbs')  # show_doc's source links find their line numbers from where a notebook runs
    stale = [s for fn in fns for s in refresh(fn, check)]
    for s in stale: print(('stale ' if check else 'refreshed ') + s)
    print(f"{len(stale)} show_doc output(s) {'stale' if check else 'refreshed'}")
    sys.exit(1 if check and stale else 0)
