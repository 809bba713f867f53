"""Remove saved outputs a reader should not see, after a notebook's outputs are refreshed: fastprogress displays its
CSS as an output of its own (an HTML `<style>` block with the text `<IPython.core.display.HTML object>`), which the
pages show as an empty box; and it gives its progress table a `text/markdown` copy that is the same HTML fenced as
code, which a renderer that prefers Markdown shows as 40 lines of HTML source. `docs_check.py` fails while any is left.

Usage (from the repository root): python .ci/tidy_outputs.py [NOTEBOOK ...]   (default: every notebook in nbs/)"""
import json, re, sys
from pathlib import Path

def style_only(o: dict) -> bool:
    "True for a display output whose HTML is nothing but `<style>` blocks."
    h = ''.join(o.get('data', {}).get('text/html', ''))
    return bool(h) and re.fullmatch(r'\s*(<style\b.*?</style>\s*)+', h, re.S) is not None

def fenced_html(o: dict) -> bool:
    "True for an output with HTML whose Markdown copy is that HTML fenced as a code block (```html ...```)."
    d = o.get('data', {})
    return 'text/html' in d and ''.join(d.get('text/markdown', '')).lstrip().startswith('```html')

def tidy(fn: Path) -> int:
    """Drop the style-only outputs of `fn` and the fenced-HTML Markdown copies, in place (same JSON layout as
    nbdev_clean); return how many went."""
    nb = json.loads(fn.read_text(encoding='utf-8'))
    n = 0
    for cell in nb['cells']:
        if 'outputs' not in cell: continue
        keep = [o for o in cell['outputs'] if not style_only(o)]
        n += len(cell['outputs']) - len(keep); cell['outputs'] = keep
        for o in keep:
            if fenced_html(o): del o['data']['text/markdown']; n += 1
    if n: fn.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n', encoding='utf-8')
    return n

if __name__ == '__main__':
    for fn in [Path(a) for a in sys.argv[1:]] or sorted(Path('nbs').glob('*.ipynb')):
        n = tidy(fn)
        if n: print(f'{fn}: removed {n} style-only output(s) or fenced-HTML copies')
