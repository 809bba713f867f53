"""The lessons: the one place that knows their order and their sections, and what follows from that.

The lessons are the numbered notebooks `nbs/[0-9]*.ipynb`, in file-name order (`04_sgd`, `04a_testing`, `05_momentum`,
...), so a new notebook takes its place by its name alone. `SECTIONS` below groups them by number for the sidebar.
From that, this script:

- writes `nbs/sidebar.yml` (the site's sidebar: the index, then each section with its lessons);
- starts each lesson's title (the `# ` line of its first markdown cell) with its number: `# 16 · A ResNet to 0.94`;
- ends each lesson with a navigation cell (a markdown cell marked `<!-- lesson-nav -->`) linking the previous and the
  next lesson (the first lesson's previous is the index; the last has no next). An existing navigation cell, wherever
  it is, is moved to the end, so cells appended after it (Questions, say) end up before it on the next run;
- links every lesson named in markdown prose to its page: "lesson 16" becomes `[lesson 16](16_resnet.ipynb)`, "lessons
  04-07" links both numbers, a code span that is exactly a lesson's name (`` `16_resnet` ``, as in the index's tables)
  is wrapped in a link. Never inside code spans, fenced code, math, HTML, headings or existing links, never in a
  lesson's title cell, never a page to itself. Quarto turns the `.ipynb` links into `.html` ones on the site; in
  Jupyter, Colab and on GitHub they open the notebook. To name a lesson without a link (another course's lesson, say),
  write `lesson&nbsp;3`.

Every step is idempotent: a second run changes nothing.

Usage (from the repository root):
    python .ci/lessons.py           write the sidebar, titles, navigation cells and prose links
    python .ci/lessons.py --check   change nothing; exit 1, saying what is stale, if a run would change anything,
                                    or if a lesson is missing from the index's table of lessons"""
import hashlib, json, re, sys
from dataclasses import dataclass
from pathlib import Path

NBS = Path('nbs')
INDEX = NBS / 'index.ipynb'
SIDEBAR = NBS / 'sidebar.yml'
# (first number, last number, title): a lesson belongs to the section whose range holds its number (`04a` counts as 4).
SECTIONS = [(0, 3, 'Foundations'), (4, 9, 'Optimisers from scratch'), (10, 13, 'Schedules and tuning'),
            (14, 17, 'Beyond'), (18, 23, 'Tools and scale')]
NAV_MARK = '<!-- lesson-nav -->'
STEM_RE = re.compile(r'^(\d+)([a-z]?)_\w+$')
NUMBERED_TITLE_RE = re.compile(r'^\d+[a-z]?\s*·\s*')

@dataclass
class Lesson:
    path: Path
    stem: str     # '16_resnet'
    number: str   # '16', '04a'
    section: str

    @property
    def nb(self) -> dict: return json.loads(self.path.read_text(encoding='utf-8'))

    @property
    def title(self) -> str:
        "The title the lesson should have, with its number: '16 · A ResNet to 0.94'."
        return f'{self.number} · {NUMBERED_TITLE_RE.sub("", title_line(self.nb, self.path)[1][2:].strip())}'

def section_of(n: int) -> str:
    for lo, hi, name in SECTIONS:
        if lo <= n <= hi: return name
    raise SystemExit(f'lesson number {n} is in no section: add a range for it to SECTIONS in .ci/lessons.py')

def lessons() -> list:
    "Every lesson, in order."
    res = []
    for p in sorted(NBS.glob('[0-9]*.ipynb'), key=lambda p: p.name):
        m = STEM_RE.match(p.stem)
        if not m: raise SystemExit(f'{p}: a lesson notebook is named NN_name.ipynb or NNa_name.ipynb')
        res.append(Lesson(p, p.stem, m.group(1) + m.group(2), section_of(int(m.group(1)))))
    return res

def neighbours(stem: str, ls: list = None) -> tuple:
    "The stems a lesson's page must link to: (previous lesson or 'index', next lesson or None)."
    ls = ls or lessons()
    stems = [l.stem for l in ls]
    i = stems.index(stem)
    return (stems[i - 1] if i else 'index', stems[i + 1] if i + 1 < len(stems) else None)

# Notebooks

def title_line(nb: dict, path) -> tuple:
    "(index of the first markdown cell, its `# ` title line)."
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'markdown': continue
        line = ''.join(c['source']).split('\n', 1)[0]
        if not line.startswith('# '): raise SystemExit(f'{path}: the first markdown cell does not start with a "# " title')
        return i, line
    raise SystemExit(f'{path}: no markdown cell, so no title')

def set_source(cell: dict, text: str): cell['source'] = text.splitlines(keepends=True)

def nb_text(nb: dict) -> str: return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + '\n'  # as nbdev_clean writes

def is_nav(cell: dict) -> bool: return cell['cell_type'] == 'markdown' and ''.join(cell['source']).lstrip().startswith(NAV_MARK)

def md_link_text(s: str) -> str: return re.sub(r'([\[\]\\])', r'\\\1', s)

def nav_text(l: Lesson, ls: list) -> str:
    by_stem = {o.stem: o for o in ls}
    prev, nxt = neighbours(l.stem, ls)
    parts = ['← ' + (f'[{md_link_text(by_stem[prev].title)}]({prev}.ipynb)' if prev != 'index' else '[All lessons](index.ipynb)')]
    if nxt: parts.append(f'[{md_link_text(by_stem[nxt].title)}]({nxt}.ipynb) →')
    return NAV_MARK + '\n' + ' · '.join(parts)

def nav_cell(l: Lesson, ls: list, old: dict = None) -> dict:
    cid = old['id'] if old and old.get('id') else hashlib.sha1(f'lesson-nav {l.stem}'.encode()).hexdigest()[:8]
    cell = {'cell_type': 'markdown', 'id': cid, 'metadata': {}, 'source': []}
    set_source(cell, nav_text(l, ls))
    return cell

# Links in prose

_PROTECTED = re.compile(r'''
    <!--.*?-->                                    # HTML comment
  | !?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\([^)]*\)      # link or image (its text may hold one level of brackets)
  | !?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\[[^\]]*\]     # reference link
  | (?P<ticks>`+)(?P<code>.+?)(?P=ticks)          # code span
  | <[^>\n]+>                                     # HTML tag or autolink
  | \$\$.+?\$\$ | \$[^$\n]+\$                     # math
''', re.X | re.S)
_NUM = r'\d{1,2}[a-z]?(?![\w]|\.\d)'
_MENTION = re.compile(rf'\b(?P<word>[Ll]essons?)(?P<sp>[ \t]+)(?P<n>{_NUM})')
_MORE = re.compile(rf'(?P<sep>[ \t]*(?:-|–|—|,[ \t]*and|,|[ \t]+to|[ \t]+and|[ \t]+or)[ \t]*)(?P<n>{_NUM})')

def _stem_for(n: str, stems_by_num: dict):
    m = re.match(r'(\d+)([a-z]?)$', n)
    return stems_by_num.get(m.group(1).zfill(2) + m.group(2))

def _link_plain(text: str, here: str, stems_by_num: dict) -> str:
    "Link lesson mentions in `text`, which holds no code, link, HTML or math."
    out, pos = [], 0
    for m in _MENTION.finditer(text):
        if m.start() < pos: continue
        out.append(text[pos:m.start()])
        stem = _stem_for(m.group('n'), stems_by_num)
        mention = m.group('word') + m.group('sp') + m.group('n')
        out.append(f'[{mention}]({stem}.ipynb)' if stem and stem != here else mention)
        pos = m.end()
        if m.group('word').lower() == 'lessons':  # "lessons 04-07", "lessons 10 and 11", "lessons 04, 05 and 07"
            while (more := _MORE.match(text, pos)):
                stem = _stem_for(more.group('n'), stems_by_num)
                n = more.group('n')
                out.append(more.group('sep') + (f'[{n}]({stem}.ipynb)' if stem and stem != here else n))
                pos = more.end()
    out.append(text[pos:])
    return ''.join(out)

def link_markdown(md: str, here: str, stems: list) -> str:
    "`md` with the lessons it names linked to their pages; `here` is the page's own stem (never linked)."
    stems_by_num = {STEM_RE.match(s).group(1) + STEM_RE.match(s).group(2): s for s in stems}
    res, pos = [], 0
    for start, end in _skipped_ranges(md) + [(len(md), len(md))]:  # fenced code and headings stay as they are
        res += [_link_inline(md[pos:start], here, stems_by_num, stems), md[start:end]]
        pos = end
    return ''.join(res)

def _skipped_ranges(md: str) -> list:
    "(start, end) of the fenced code blocks and heading lines of `md`."
    ranges, pos, fence, fstart = [], 0, None, 0
    for line in md.split('\n'):
        end = pos + len(line)
        f = re.match(r'\s{0,3}(`{3,}|~{3,})', line)
        if fence:
            if f and f.group(1)[0] == fence[0] and len(f.group(1)) >= len(fence): ranges.append((fstart, end)); fence = None
        elif f: fence, fstart = f.group(1), pos
        elif re.match(r'\s{0,3}#{1,6}(\s|$)', line): ranges.append((pos, end))
        pos = end + 1
    if fence: ranges.append((fstart, len(md)))
    return ranges

def _link_inline(text: str, here: str, stems_by_num: dict, stems: list) -> str:
    out, pos = [], 0
    for m in _PROTECTED.finditer(text):
        out.append(_link_plain(text[pos:m.start()], here, stems_by_num))
        code = m.group('code')
        if code is not None and code.strip() in stems and code.strip() != here:  # `16_resnet` -> [`16_resnet`](16_resnet.ipynb)
            out.append(f'[{m.group(0)}]({code.strip()}.ipynb)')
        else: out.append(m.group(0))
        pos = m.end()
    out.append(_link_plain(text[pos:], here, stems_by_num))
    return ''.join(out)

def link_cells(nb: dict, here: str, stems: list) -> list:
    "Link the markdown cells of `nb` (not its title cell, not the navigation cell); return the indices changed."
    first, _ = title_line(nb, here)
    changed = []
    for i, c in enumerate(nb['cells']):
        if c['cell_type'] != 'markdown' or i == first or is_nav(c): continue
        old = ''.join(c['source'])
        new = link_markdown(old, here, stems)
        if new != old: set_source(c, new); changed.append(i)
    return changed

# The site

def sidebar_text(ls: list) -> str:
    lines = ['website:', '  sidebar:', '    contents:', '      - index.ipynb']
    for _, _, name in SECTIONS:
        members = [l for l in ls if l.section == name]
        if not members: continue
        lines += [f'      - section: {name}', '        contents:'] + [f'          - {l.path.name}' for l in members]
    return '\n'.join(lines) + '\n'

def index_missing(ls: list) -> list:
    "Lessons that no row of the index's tables starts with."
    nb = json.loads(INDEX.read_text(encoding='utf-8'))
    md = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown')
    listed = set(re.findall(r'^\|\s*\[?`(\w+)`', md, re.M))
    return [l.stem for l in ls if l.stem not in listed]

def run(check: bool) -> int:
    ls = lessons()
    stems = [l.stem for l in ls]
    stale = []
    side = sidebar_text(ls)
    if not SIDEBAR.exists() or SIDEBAR.read_text(encoding='utf-8') != side:
        stale.append(f'{SIDEBAR}: not the sidebar of the lessons {stems[0]} .. {stems[-1]} ({len(stems)} lessons)')
        if not check: SIDEBAR.write_text(side, encoding='utf-8')
    for l in ls:
        nb, why = l.nb, []
        i, line = title_line(nb, l.path)
        if line != f'# {l.title}':
            why.append(f'title "{line[2:]}" should be "{l.title}"')
            src = ''.join(nb['cells'][i]['source'])
            set_source(nb['cells'][i], f'# {l.title}' + src[len(line):])
        if changed := link_cells(nb, l.stem, stems): why.append(f'lessons named without a link in cells {changed}')
        navs = [c for c in nb['cells'] if is_nav(c)]
        rest = [c for c in nb['cells'] if not is_nav(c)]
        new = nav_cell(l, ls, navs[0] if navs else None)
        if len(navs) != 1 or nb['cells'][-1] is not navs[0] or navs[0]['source'] != new['source']:
            why.append('no navigation cell' if not navs else 'the navigation cell is not last, or not up to date')
        nb['cells'] = rest + [new]
        if why:
            stale.append(f'{l.path}: ' + '; '.join(why))
            if not check: l.path.write_text(nb_text(nb), encoding='utf-8')
    nb = json.loads(INDEX.read_text(encoding='utf-8'))
    if changed := link_cells(nb, 'index', stems):
        stale.append(f'{INDEX}: lessons named without a link in cells {changed}')
        if not check: INDEX.write_text(nb_text(nb), encoding='utf-8')
    missing = index_missing(ls)
    if check:
        for s in stale: print('STALE', s)
        for m in missing: print(f'MISSING {m}: no row of the lesson table in {INDEX} names it (add one: | `{m}` | module | what it teaches |)')
        if stale or missing:
            print(f'lessons check: {len(stale) + len(missing)} problems' + (': run python .ci/lessons.py (then nbdev_clean; python .ci/readme.py if the index changed)' if stale else ''))
            return 1
        print(f'lessons check: {len(ls)} lessons; sidebar, titles, navigation cells and links up to date')
        return 0
    for s in stale: print('updated', s)
    for m in missing: print(f'MISSING {m}: add a row for it to the lesson table in {INDEX}')
    print(f'{len(ls)} lessons, {len(stale)} files updated')
    return 1 if missing else 0

if __name__ == '__main__': sys.exit(run('--check' in sys.argv[1:]))
