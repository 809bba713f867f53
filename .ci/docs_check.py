"""Docs check without Quarto: process the notebooks as `nbdev_docs` would (nbdev's `proc_nbs`: front matter,
show_doc, hidden cells, directives) and render every processed page to standalone HTML with pandoc 3 (from the
`pypandoc_binary` wheel). Fails on any page that errors or lacks its title. Pages land in `_docs_check/`.

Usage: python .ci/docs_check.py   (from the repository root)"""
import json, re, shutil, sys
import yaml
from pathlib import Path
from nbdev.config import get_config
from nbdev.serve import proc_nbs
import pypandoc

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
            if any(md): cells.append({'cell_type': 'markdown', 'metadata': {}, 'source': '\n\n'.join(m for m in md if m)})
            continue
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
    nb_path.write_text(json.dumps(nb), encoding='utf-8')
    return front

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
    nbs = sorted(p for p in proc.glob('*.ipynb'))
    expected = sorted(p.name for p in Path(cfg.nbs_path).glob('*.ipynb') if not p.name.startswith('_'))
    failures = [f'{n}: not processed' for n in expected if not (proc / n).exists()]
    for nb in nbs:
        html = out / (nb.stem + '.html')
        front = normalise(nb)
        meta = [f'--metadata={k}:{front[k]}' for k in ('title', 'subtitle') if front.get(k)]
        if front.get('description'): meta.append(f"--metadata=subtitle:{front['description']}")
        try:
            pypandoc.convert_file(str(nb.absolute()), 'html5', format='ipynb', outputfile=str(html.absolute()), cworkdir=str(out),
                                  extra_args=[*meta, '--standalone', '--mathml', f'--extract-media={nb.stem}', f'--resource-path={proc.absolute()}'])
        except Exception as e:
            failures.append(f'{nb.name}: pandoc failed: {str(e).strip()[:300]}'); continue
        text = html.read_text(encoding='utf-8')
        title = re.search(r'<h1 class="title">(.*?)</h1>', text, re.S)
        if not title or not title.group(1).strip(): failures.append(f'{nb.name}: the page has no title')
        else: print(f'ok  {html}  "{title.group(1).strip()}"')
    failures += neighbour_link_problems(out) + heading_order_problems(out)
    for f in failures: print('FAIL', f)
    print(f'docs check: {len(nbs) - len([f for f in failures if "not processed" not in f])} pages rendered, {len(failures)} problems')
    return 1 if failures else 0

if __name__ == '__main__': sys.exit(main())
