"""Docs check without Quarto: process the notebooks as `nbdev_docs` would (nbdev's `proc_nbs`: front matter,
show_doc, hidden cells, directives) and render every processed page to standalone HTML with pandoc 3 (from the
`pypandoc_binary` wheel). Fails on any page that errors or lacks its title. Pages land in `_docs_check/`.

Usage: python .ci/docs_check.py   (from the repository root)"""
import ast, json, re, shutil, sys
import yaml
from pathlib import Path
from nbdev.config import get_config
from nbdev.serve import proc_nbs
import pypandoc
from tidy_outputs import fenced_html, style_only  # what tidy_outputs.py removes, the check fails on

PARAMS_DIV = '<div class="params">'  # lesson 00's renderer puts each parameter table in one

def markdown_as_html(md: str) -> dict:
    """A raw HTML cell holding `md` rendered as Quarto renders a page's markdown (pandoc's own markdown). Pandoc's ipynb
    reader reads cells as CommonMark, which passes a `<div>` holding a markdown table (show_doc's) through as raw HTML,
    table and all."""
    return {'cell_type': 'raw', 'metadata': {'format': 'text/html'},
            'source': pypandoc.convert_text(md, 'html5', format='markdown', extra_args=['--mathml'])}

def normalise(nb_path: Path) -> dict:
    "Fill in the fields nbformat 4 requires but nbdev's processed outputs may omit (pandoc is strict about them); return the front matter."
    nb = json.loads(nb_path.read_text(encoding='utf-8'))
    front = {}
    if nb['cells'] and nb['cells'][0]['cell_type'] == 'raw':
        front = yaml.safe_load(''.join(nb['cells'][0]['source']).strip().strip('-')) or {}
        nb['cells'] = nb['cells'][1:]
    cells = []
    for cell in nb['cells']:
        cell.pop('has_sd', None)
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'code' and '#| echo: false' in src:
            # Quarto shows only the output of these cells (show_doc); pandoc does not know the directive.
            md = [''.join(o.get('data', {}).get('text/markdown', '')) for o in cell.get('outputs', [])]
            md = [re.sub(r'\{target="_blank"[^}]*\}', '', m) for m in md]
            if any(md): cells.append(markdown_as_html('\n\n'.join(m for m in md if m)))
            continue
        if cell['cell_type'] == 'markdown' and PARAMS_DIV in src:  # show_doc's output, added by nbdev's processing
            cells.append(markdown_as_html(src)); continue
        cells.append(cell)
        if cell['cell_type'] != 'code': continue
        for o in cell.get('outputs', []):  # Markdown outputs (tables, show_doc): Quarto renders them, pandoc's ipynb reader skips them
            md = ''.join(o.get('data', {}).get('text/markdown', ''))
            if not md: continue
            md = re.sub(r'\{target="_blank"[^}]*\}', '', md)  # Quarto link attributes of show_doc's source links
            o['data'] = {'text/html': pypandoc.convert_text(md, 'html5', format='markdown', extra_args=['--mathml'])}
        cell['execution_count'] = cell.get('execution_count') or None
        for o in cell.get('outputs', []):
            if o['output_type'] in ('display_data', 'execute_result'): o.setdefault('metadata', {})
            if o['output_type'] == 'execute_result' and not isinstance(o.get('execution_count'), int):
                o['output_type'] = 'display_data'; o.pop('execution_count', None)
    nb['cells'] = cells
    alt_into_html(nb)
    for cell in cells:  # Quarto shows code without its cell options (`#| fig-alt: ...`, `#| export`)
        if cell['cell_type'] == 'code':
            cell['source'] = ''.join(l for l in ''.join(cell['source']).splitlines(True) if not l.startswith('#|'))
    nb_path.write_text(json.dumps(nb), encoding='utf-8')
    return front

IMAGE_TYPES = ('image/png', 'image/jpeg', 'image/svg+xml', 'image/gif')

def fig_alt(source: str):
    """The text alternative a code cell gives its figure: the value of the cell option `#| fig-alt:` (or, failing that,
    the caption `#| fig-cap:`), read as Quarto reads cell options, as YAML; None when there is none. A value YAML cannot
    read as a string (an unquoted `: ` inside, say) raises ValueError: Quarto would stop on it."""
    for key in ('fig-alt', 'fig-cap'):
        m = re.search(rf'^#\|\s*{key}:(.*)$', source, re.M)
        if not m: continue
        try: v = yaml.safe_load(m.group(1))
        except yaml.YAMLError as e: raise ValueError(f'#| {key}: is not valid YAML (quote it): {str(e).splitlines()[0]}')
        if not isinstance(v, str) or not v.strip(): raise ValueError(f'#| {key}: must be a non-empty string')
        return v.strip()
    return None

def lesson_cells(nbs_path: Path):
    "Every cell of the source notebooks (not `_`-prefixed ones), as `(notebook path, index, cell)`."
    for fn in sorted(nbs_path.glob('*.ipynb')):
        if fn.name.startswith('_'): continue
        for i, cell in enumerate(json.loads(fn.read_text(encoding='utf-8'))['cells']): yield fn, i, cell

def figures_without_alt(nbs_path: Path) -> list:
    """Code cells of the source notebooks that show a figure (an image output, or an HTML output holding an `<img>`,
    a `<canvas>` or an animation) but give it no text alternative: Quarto takes the `alt` of a cell's figure from the
    cell option `#| fig-alt: "..."` (or, failing that, the caption `#| fig-cap: ...`). One problem per such cell."""
    problems = []
    for fn, i, cell in lesson_cells(nbs_path):
        if cell['cell_type'] != 'code': continue
        src = ''.join(cell['source'])
        shows = any(k in IMAGE_TYPES or (k == 'text/html' and re.search(r'<(img|canvas)\b|class="animation"', ''.join(v)))
                    for o in cell.get('outputs', []) for k, v in o.get('data', {}).items())
        try: alt = fig_alt(src)
        except ValueError as e: problems.append(f'{fn.name} cell {i}: {e}'); continue
        if shows and not alt:
            first = next((l for l in src.splitlines() if l.strip() and not l.startswith('#|')), '')
            problems.append(f'{fn.name} cell {i}: a figure without alt text (add \'#| fig-alt: "..."\'): {first[:60]!r}')
    return problems

# What the site's styles.css (written for Quarto's page structure) does for images, code and maths, for pandoc's pages:
# a figure keeps its aspect ratio when the column narrows it, and code, outputs and display maths scroll sideways.
PAGE_CSS = '''img { max-width: 100%; height: auto; }
pre, div.sourceCode { max-width: 100%; overflow-x: auto; }
pre code { white-space: pre; }
math[display="block"] { display: block; max-width: 100%; overflow-x: auto; }
'''

COLUMN_PX, MAX_FIG_PX = 800, 1120  # Quarto's text column; 10-pt text of a wider figure shows below 10 px in it

def png_css_width(o: dict) -> int:
    "The width in CSS pixels a PNG output is shown at: its `width` metadata (retina images) or its pixel width."
    import base64, struct
    w = o.get('metadata', {}).get('image/png', {}).get('width')
    if w: return int(w)
    head = base64.b64decode(''.join(o['data']['image/png'])[:48])
    return struct.unpack('>I', head[16:20])[0]

def wide_figures(nbs_path: Path) -> list:
    """Figures so wide that the column shrinks them until 10-pt text is under 10 px on screen (a figure of W CSS px is
    shown at 800/W of its size; matplotlib's 10 pt is about 14 px at 100 dpi): split wide small multiples into rows,
    or make the figure about 10 in wide at 100 dpi."""
    problems = []
    for fn, i, cell in lesson_cells(nbs_path):
        for o in cell.get('outputs', []):
            if 'image/png' not in o.get('data', {}): continue
            w = png_css_width(o)
            if w > MAX_FIG_PX:
                problems.append(f'{fn.name} cell {i}: a figure {w} px wide is shown at {COLUMN_PX / w:.0%}, its text too small to read')
    return problems

def docs_build_reruns(nbs_path: Path) -> list:
    """Cells that the docs build runs again and that should not be run there: nbdev's `exec_show_docs` executes every
    cell with an import (not only exported and show_doc cells), so a cell that imports and prints, plots or trains
    shows the docs machine's fresh output (a test-mode run, a cold build's time) instead of the saved one, and does
    its work again on every build. Such imports belong in the lesson's import cell. A cell that imports is allowed
    definitions, assignments and an `if` (the Colab install cell), but no saved output and no loop, `with`, `try` or
    bare call at its top level."""
    problems = []
    for fn, i, cell in lesson_cells(nbs_path):
        if cell['cell_type'] != 'code': continue
        src = ''.join(cell['source'])
        if re.search(r'^#\|\s*(export|exports|exporti|exec_doc)\b|^#\|\s*eval:\s*false', src, re.M): continue
        try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        if not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)): continue
        runs = [n for n in tree.body if isinstance(n, (ast.For, ast.While, ast.With, ast.Try))
                or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Call))]
        if cell.get('outputs') or runs:
            problems.append(f'{fn.name} cell {i}: it imports, so the docs build runs it again '
                            f'({"and replaces its saved output" if cell.get("outputs") else "with all its work"}): '
                            'move its imports to the import cell')
    return problems

def noisy_outputs(nbs_path: Path) -> list:
    """Saved outputs a reader should not see: an HTML output that is only a `<style>` block (fastprogress writes its CSS
    as an output of its own, which pages show as an empty box), an HTML output whose `text/markdown` copy is the HTML
    fenced as code (fastprogress's table: a renderer preferring Markdown shows its source), and any HTML output that loads an outside resource
    (`<link href="http...">`, `<script src="http...">`, `@import url(http...)`: blank offline and a privacy leak)."""
    problems = []
    for fn, i, cell in lesson_cells(nbs_path):
        for o in cell.get('outputs', []):
            h = ''.join(o.get('data', {}).get('text/html', ''))
            if not h: continue
            if style_only(o):
                problems.append(f'{fn.name} cell {i}: an output that is only a <style> block (run python .ci/tidy_outputs.py)')
            if fenced_html(o):
                problems.append(f'{fn.name} cell {i}: an HTML output with a Markdown copy that shows its source as code '
                                '(run python .ci/tidy_outputs.py)')
            if re.search(r'<(link|script|img|iframe)\b[^>]*\b(href|src)\s*=\s*["\']?(https?:)?//|@import\s+url\(\s*["\']?(https?:)?//', h, re.I):
                problems.append(f'{fn.name} cell {i}: an HTML output loads an outside resource')
    return problems

def alt_into_html(nb: dict) -> None:
    "Pandoc's ipynb reader ignores `#| fig-alt:`: give each such cell's PNG outputs an HTML <img> carrying the alt text."
    import base64, html
    for cell in nb['cells']:
        try: alt = fig_alt(''.join(cell['source'])) if cell['cell_type'] == 'code' else None
        except ValueError: alt = None  # reported by figures_without_alt
        if not alt: continue
        for o in cell.get('outputs', []):
            png = o.get('data', {}).get('image/png')
            if not png: continue
            size = o.get('metadata', {}).get('image/png', {})
            attrs = ''.join(f' {k}="{size[k]}"' for k in ('width', 'height') if k in size)
            o['data'] = {'text/html': f'<img src="data:image/png;base64,{"".join(png).strip()}" alt="{html.escape(alt)}"{attrs} />'}
            o['metadata'] = {}

def _hrefs(html: str) -> set:
    "The pages an HTML page links to, as notebook stems: 'x.ipynb', './x.html#y' and 'x.html' all give 'x'."
    stems = set()
    for h in re.findall(r'<a\s[^>]*?href="([^"]+)"', html):
        if '://' in h or h.startswith(('#', 'mailto:')): continue
        name = h.split('#')[0].split('?')[0].rsplit('/', 1)[-1]
        stems.add(re.sub(r'\.(ipynb|html)$', '', name))
    return stems

def neighbour_link_problems(out: Path) -> list:
    "Each lesson page links to its previous lesson (the index, for the first) and its next one (none after the last)."
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import lessons  # .ci/lessons.py: the one place that knows the lesson order
    ls, probs = lessons.lessons(), []
    for l in ls:
        page = out / f'{l.stem}.html'
        if not page.exists(): continue  # reported as not processed or failed already
        links = _hrefs(page.read_text(encoding='utf-8'))
        prev, nxt = lessons.neighbours(l.stem, ls)
        for kind, stem in (('previous', prev), ('next', nxt)):
            if stem and stem not in links:
                probs.append(f'{page.name}: no link to its {kind} lesson {stem} (python .ci/lessons.py adds the navigation cell)')
    return probs

def raw_table_problems(out: Path) -> list:
    "Markdown tables that reached a page unrendered (a header row then a `| --- |` row in the text outside code)."
    probs = []
    for page in sorted(out.glob('*.html')):
        text = re.sub(r'<(pre|code|script|style)\b.*?</\1>', '', page.read_text(encoding='utf-8'), flags=re.S)
        n = len(re.findall(r'^\s*\|.*\|\s*\n\s*\|\s*:?-{2,}', text, re.M))
        if n: probs.append(f'{page.name}: {n} markdown table(s) shown as raw text')
    return probs

def heading_order_problems(out: Path) -> list:
    "On every page the headings go down one level at a time: the title is h1, then no h3 before an h2, and so on."
    probs = []
    for page in sorted(out.glob('*.html')):
        html = page.read_text(encoding='utf-8')
        body = html.split('</header>', 1)[-1]  # pandoc's title block holds the title, the page's h1
        level, last = 1, 'the title'
        for m in re.finditer(r'<h([1-6])\b[^>]*>(.*?)</h\1>', body, re.S):
            n, text = int(m.group(1)), ' '.join(re.sub(r'<[^>]+>', '', m.group(2)).split())
            if n > level + 1: probs.append(f'{page.name}: heading "{text}" (h{n}) follows {last} (h{level}): a level is skipped')
            level, last = n, f'"{text}"'
    return probs

def main() -> int:
    cfg = get_config()
    proc = Path('_proc')
    shutil.rmtree(proc, ignore_errors=True)
    proc_nbs(n_workers=0, force=True)
    out = Path('_docs_check'); shutil.rmtree(out, ignore_errors=True); out.mkdir()
    (out / 'page.css').write_text(PAGE_CSS, encoding='utf-8')
    nbs = sorted(p for p in proc.glob('*.ipynb'))
    expected = sorted(p.name for p in Path(cfg.nbs_path).glob('*.ipynb') if not p.name.startswith('_'))
    failures = [f'{n}: not processed' for n in expected if not (proc / n).exists()]
    failures += figures_without_alt(Path(cfg.nbs_path)) + noisy_outputs(Path(cfg.nbs_path)) + docs_build_reruns(Path(cfg.nbs_path))
    warnings = wide_figures(Path(cfg.nbs_path))  # a warning until every saved figure is refreshed at its new size
    for nb in nbs:
        html = out / (nb.stem + '.html')
        front = normalise(nb)
        # title and description as a metadata file, whose values pandoc reads as markdown (`code` in a description)
        meta = {k: front[k] for k in ('title', 'subtitle') if front.get(k)}
        if front.get('description'): meta['subtitle'] = front['description']
        meta_file = out / f'{nb.stem}.meta.yml'; meta_file.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding='utf-8')
        try:
            pypandoc.convert_file(str(nb.absolute()), 'html5', format='ipynb', outputfile=str(html.absolute()), cworkdir=str(out),
                                  extra_args=[f'--metadata-file={meta_file.absolute()}', '--css=page.css', '--standalone', '--mathml',
                                              f'--extract-media={nb.stem}', f'--resource-path={proc.absolute()}'])
        except Exception as e:
            failures.append(f'{nb.name}: pandoc failed: {str(e).strip()[:300]}'); continue
        text = html.read_text(encoding='utf-8')
        title = re.search(r'<h1 class="title">(.*?)</h1>', text, re.S)
        if not title or not title.group(1).strip(): failures.append(f'{nb.name}: the page has no title')
        else: print(f'ok  {html}  "{title.group(1).strip()}"')
    failures += neighbour_link_problems(out) + heading_order_problems(out) + raw_table_problems(out)
    for w in warnings: print('WARN', w)
    for f in failures: print('FAIL', f)
    print(f'docs check: {len(nbs) - len([f for f in failures if "not processed" not in f])} pages rendered, {len(failures)} problems, {len(warnings)} warnings (figures too wide)')
    return 1 if failures else 0

if __name__ == '__main__': sys.exit(main())
