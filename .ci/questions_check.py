"""Every lesson ends with questions: each `nbs/[0-9]*.ipynb` must have a markdown cell holding `## Questions` with 8 to
15 numbered items, followed in the same cell by `## Further research` with 2 to 4 numbered items (numbered 1, 2, 3...),
and no cell may come after that cell except one final navigation cell (a markdown cell containing `<!-- lesson-nav -->`).

Prints one line per problem and exits 1, or prints one summary line and exits 0. Before checking the lessons it runs its
own self-test (a few tiny notebooks in a temporary folder, good and bad, and a real lesson with its questions removed),
so the check is known to fail where it should; `--self-test` runs only that, and says what it checked.

Usage: python .ci/questions_check.py [--self-test] [NOTEBOOK ...]   (from the repository root)"""
import json, os, re, shutil, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_QUESTIONS, N_RESEARCH = (8, 15), (2, 4)
NAV_MARK = '<!-- lesson-nav -->'
QUESTIONS_RE = re.compile(r'^## Questions[ \t]*$', re.M)
RESEARCH_RE = re.compile(r'^## Further research[ \t]*$', re.M)
ITEM_RE = re.compile(r'^(\d+)\. \S', re.M)  # a top-level numbered item: "1. text" at the start of a line

def _source(cell) -> str:
    src = cell.get('source', '')
    return ''.join(src) if isinstance(src, list) else src

def _items(text: str, what: str, bounds: tuple) -> list:
    "Problems with the numbered list in `text`: its length must be within `bounds` and its numbers 1, 2, 3..."
    numbers = [int(m.group(1)) for m in ITEM_RE.finditer(text)]
    lo, hi = bounds
    problems = []
    n = len(numbers)
    if not lo <= n <= hi: problems.append(f"{what} has {n} numbered item{'s' * (n != 1)}, needs {lo} to {hi}")
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f'{what} is numbered {numbers}, not 1 to {len(numbers)}')
    return problems

def check_notebook(path: Path) -> list:
    "The problems of one notebook, each a line starting with its path; [] if it ends with valid questions."
    if Path(path).resolve().is_relative_to(Path.cwd()): path = os.path.relpath(path)  # nbs/..., as the other checks say
    try: cells = json.loads(Path(path).read_text(encoding='utf-8'))['cells']
    except (OSError, ValueError, KeyError) as e: return [f'{path}: not a readable notebook ({type(e).__name__}: {e})']
    found = [i for i, c in enumerate(cells) if c.get('cell_type') == 'markdown' and QUESTIONS_RE.search(_source(c))]
    if not found: return [f'{path}: no markdown cell with a "## Questions" heading']
    problems = [f'{path}: {len(found)} cells with a "## Questions" heading, needs one'] if len(found) > 1 else []
    i = found[-1]
    text = _source(cells[i])
    after_heading = text[QUESTIONS_RE.search(text).end():]
    parts = RESEARCH_RE.split(after_heading)
    if len(parts) != 2:
        problems.append(f'{path}: the questions cell needs one "## Further research" heading after "## Questions", '
                        f'has {len(parts) - 1}')
    else:
        questions, research = parts
        problems += [f'{path}: {p}' for p in _items(questions, '"## Questions"', N_QUESTIONS)]
        problems += [f'{path}: {p}' for p in _items(research, '"## Further research"', N_RESEARCH)]
    after = cells[i + 1:]
    nav_only = len(after) == 1 and after[0].get('cell_type') == 'markdown' and NAV_MARK in _source(after[0])
    if after and not nav_only:
        problems.append(f'{path}: {len(after)} cell(s) after the questions cell; only one final markdown cell '
                        f'holding {NAV_MARK} may follow it')
    return problems

def check_all(paths) -> list:
    paths = list(paths)
    if not paths: return ['no lesson notebooks (nbs/[0-9]*.ipynb) found to check']
    return [p for path in paths for p in check_notebook(path)]

def _md(text: str) -> dict: return {'cell_type': 'markdown', 'metadata': {}, 'source': text}

def _write(folder: Path, name: str, cells: list) -> Path:
    path = folder / name
    path.write_text(json.dumps({'cells': cells, 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}), encoding='utf-8')
    return path

def _questions(n_q: int = 8, n_r: int = 2, research: bool = True) -> str:
    q = '\n'.join(f'{i}. Question {i}?' for i in range(1, n_q + 1))
    r = '\n\n## Further research\n\n' + '\n'.join(f'{i}. Try {i}.' for i in range(1, n_r + 1)) if research else ''
    return f'## Questions\n\n{q}{r}\n'

def self_test(verbose: bool = False) -> list:
    "Check the checker on notebooks whose verdict is known; returns the problems with the checker itself."
    code = {'cell_type': 'code', 'metadata': {}, 'source': 'x = 1', 'outputs': [], 'execution_count': None}
    nav = _md(f'{NAV_MARK}\n[previous](a.ipynb) | [next](b.ipynb)')
    good = {'good': [_md('# A lesson'), code, _md(_questions())],
            'good, 15 questions, 4 experiments, navigation cell': [code, _md(_questions(15, 4)), nav]}
    bad = {'no questions at all': [_md('# A lesson'), code],
           '7 questions': [code, _md(_questions(7))],
           '16 questions': [code, _md(_questions(16))],
           'no further research': [code, _md(_questions(research=False))],
           '1 experiment': [code, _md(_questions(n_r=1))],
           '5 experiments': [code, _md(_questions(n_r=5))],
           'items misnumbered': [code, _md(_questions().replace('2. Question', '3. Question', 1))],
           'a code cell after the questions': [_md(_questions()), code],
           'a markdown cell after the questions': [_md(_questions()), _md('## Summary')],
           'a cell after the navigation cell': [_md(_questions()), nav, _md('more')],
           'questions in a code cell': [{**code, 'source': _questions()}]}
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, (name, cells) in enumerate({**good, **bad}.items()):
            problems = check_notebook(_write(tmp, f'{k:02d}_case.ipynb', cells))
            ok = not problems if name in good else bool(problems)
            if not ok: failures.append(f'self-test: {name!r} gave {problems or "no problem"}')
            if verbose: print(f"{'ok ' if ok else 'BAD'} {name}: {problems[0] if problems else 'passes'}")
        # a real lesson, unchanged and with its questions cell taken out
        real = sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))[:1]
        for path in real:
            copy = tmp / path.name
            shutil.copy(path, copy)
            unchanged = check_notebook(copy)
            nb = json.loads(copy.read_text(encoding='utf-8'))
            nb['cells'] = [c for c in nb['cells'] if not QUESTIONS_RE.search(_source(c))]
            copy.write_text(json.dumps(nb), encoding='utf-8')
            stripped = check_notebook(copy)
            if not stripped: failures.append(f'self-test: {path.name} without its questions cell passed the check')
            if verbose:
                print(f"{'ok ' if stripped else 'BAD'} {path.name} without its questions cell: "
                      f"{stripped[0] if stripped else 'passes'}")
                print(f"    ({path.name} as it is: {unchanged[0] if unchanged else 'passes'})")
        if check_all([]) == []: failures.append('self-test: an empty list of notebooks passed the check')
    return failures

def main(argv) -> int:
    if '--self-test' in argv:
        failures = self_test(verbose=True)
        for f in failures: print(f)
        print(f"questions self-test: {'FAILED' if failures else 'ok'}")
        return 1 if failures else 0
    problems = self_test()
    paths = [Path(a) for a in argv] or sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))
    problems += check_all(paths)
    for p in problems: print(p)
    if problems: return 1
    print(f'questions check: {len(paths)} lessons end with questions')
    return 0

if __name__ == '__main__': sys.exit(main(sys.argv[1:]))
