"""Check that every path the GitHub workflows rely on exists, which actionlint cannot know.

For each workflow in .github/workflows:
- files and folders named in `run:` scripts (`python .ci/readme.py`, `git diff -- nbs`, ...) and `working-directory`;
- local actions (`uses: ./...`);
- the globs of every `hashFiles(...)`: a glob that matches nothing gives an empty hash, silently;
- actions/setup-python's pip cache: `cache-dependency-path` must match files, and without it setup-python looks for
  requirements.txt or pyproject.toml and fails the step when there is neither;
- the folder a publishing step uploads (`publish_dir`, `path` of upload-pages-artifact) must be the one the docs build
  of an earlier step writes (`nbdev_docs`: settings.ini's doc_path, which nbs/nbdev.yml's output-dir must agree with),
  and what that build reads must exist: settings.ini, the notebooks folder, nbs/_quarto.yml with its CSS and metadata
  files, and every page of the sidebar;
- the README's install command (its <!-- install --> block) is run by every workflow that installs the project, and its
  test command (<!-- test -->) by some workflow, so CI does what the README tells a reader to do.

Usage: python .ci/workflow_check.py   (from the repository root; exit 1 on any problem)"""
import configparser, re, shlex, subprocess, sys
from pathlib import Path
import yaml

WORKFLOWS = Path('.github/workflows')
PATHLIKE = re.compile(r'^(?:\./)?[\w.-]+(?:/[\w.*?\[\]-]+)+/?$|^[\w.-]+\.(?:py|sh|ipynb|ini|toml|cfg|txt|ya?ml|json|csv)$')

def _tracked() -> list:
    "The files git tracks: what a workflow's fresh checkout holds (a local .venv or build output does not count)."
    try: return subprocess.run(['git', 'ls-files', '-z'], capture_output=True, check=True, text=True).stdout.split('\0')
    except (OSError, subprocess.CalledProcessError): return [str(p) for p in Path('.').rglob('*') if p.is_file()]
TRACKED = _tracked()

def _glob_re(glob: str):
    "GitHub's glob syntax (`**` any folders, `*` and `?` within one name) as a regex."
    out, i = '', 0
    while i < len(glob):
        if glob.startswith('**/', i): out += '(?:.*/)?'; i += 3
        elif glob.startswith('**', i): out += '.*'; i += 2
        elif glob[i] == '*': out += '[^/]*'; i += 1
        elif glob[i] == '?': out += '[^/]'; i += 1
        else: out += re.escape(glob[i]); i += 1
    return re.compile(out + '$')

def exists(glob: str) -> bool:
    "Whether `glob` (a path or a glob, relative to the repository root) names a tracked file or folder."
    glob = glob.strip().rstrip('/')
    if glob.startswith('./'): glob = glob[2:]
    if any(c in glob for c in '*?'): return any(map(_glob_re(glob).match, TRACKED))
    return glob in TRACKED or any(t.startswith(glob + '/') for t in TRACKED)

def readme_block(name: str) -> list:
    text = Path('README.md').read_text(encoding='utf-8')
    m = re.search(rf'<!-- {name} -->(.*?)<!-- /{name} -->', text, re.S)
    return [l.strip() for l in m.group(1).splitlines() if l.strip() and not l.strip().startswith('```')] if m else []

def run_paths(script: str) -> list:
    "The repository paths a shell script names: path-like words, and git pathspecs after `--`."
    found = []
    for line in script.splitlines():
        line = line.split(' #', 1)[0]
        try: words = shlex.split(line)
        except ValueError: words = line.split()
        after_dashes = False
        for i, w in enumerate(words):
            if w == '--' and words[:1] == ['git']: after_dashes = True; continue
            if not w or w.startswith(('-', '/', '~', '$')) or '://' in w or '$' in w or '=' in w: continue
            if after_dashes or PATHLIKE.match(w): found.append(w)
    return found

def docs_build_problems(cfg) -> tuple:
    "(the folder nbdev_docs writes, [problems with what it reads])."
    probs, nbs = [], Path(cfg.get('nbs_path', 'nbs'))
    doc_path = cfg.get('doc_path', '_docs')
    if not nbs.is_dir(): return doc_path, [f'settings.ini nbs_path {nbs} does not exist']
    nbdev_yml = yaml.safe_load((nbs / 'nbdev.yml').read_text()) if (nbs / 'nbdev.yml').exists() else {}
    out = (nbdev_yml.get('project') or {}).get('output-dir')
    if out and Path(out).name != Path(doc_path).name:
        probs.append(f'{nbs}/nbdev.yml renders into {out} but settings.ini doc_path is {doc_path} (nbdev_docs moves doc_path)')
    quarto = nbs / '_quarto.yml'
    if not quarto.exists(): return doc_path, probs + [f'{quarto} does not exist']
    q = yaml.safe_load(quarto.read_text()) or {}
    css = ((q.get('format') or {}).get('html') or {}).get('css') or []
    for f in ([css] if isinstance(css, str) else css) + list(q.get('metadata-files') or []):
        if not exists(str(nbs / f)): probs.append(f'{quarto} names {f}, which is not in {nbs}/')
    sidebar = nbs / 'sidebar.yml'
    if sidebar.exists():
        def pages(items):
            for it in items or []:
                if isinstance(it, str): yield it
                elif isinstance(it, dict): yield from ([it['href']] if 'href' in it else []); yield from pages(it.get('contents'))
        side = (yaml.safe_load(sidebar.read_text()) or {}).get('website', {}).get('sidebar', {})
        for page in pages(side.get('contents')):
            if not exists(str(nbs / page)): probs.append(f'{sidebar} lists {page}, which is not in {nbs}/')
    return doc_path, probs

def check(wf: Path, cfg) -> tuple:
    text = wf.read_text(encoding='utf-8')
    doc = yaml.safe_load(text) or {}
    probs, checked = [], 0
    for glob_list in re.findall(r'hashFiles\(([^)]*)\)', text):
        for g in re.findall(r"'([^']*)'", glob_list):
            checked += 1
            if not exists(g): probs.append(f"hashFiles('{g}') matches no file")
    installs = False
    for job_name, job in (doc.get('jobs') or {}).items():
        docs_built = None
        for n, step in enumerate(job.get('steps') or [], 1):
            where = f'job {job_name}, step {n} ({step.get("name") or step.get("uses") or "run"})'
            uses, with_ = step.get('uses', ''), step.get('with') or {}
            if uses.startswith('./'):
                checked += 1
                if not exists(uses): probs.append(f'{where}: local action {uses} does not exist')
            if wd := step.get('working-directory'):
                checked += 1
                if not exists(wd): probs.append(f'{where}: working-directory {wd} does not exist')
            if uses.startswith('actions/setup-python') and with_.get('cache'):
                deps = str(with_.get('cache-dependency-path') or '').split()
                if not deps and with_['cache'] == 'pip' and not (exists('**/requirements.txt') or exists('**/pyproject.toml')):
                    probs.append(f'{where}: cache: pip without cache-dependency-path needs a requirements.txt or pyproject.toml, and there is none')
                for d in deps:
                    checked += 1
                    if not exists(d): probs.append(f'{where}: cache-dependency-path {d} matches no file')
            publish = with_.get('publish_dir') if 'actions-gh-pages' in uses else with_.get('path') if 'upload-pages-artifact' in uses else None
            if publish is not None:
                checked += 1
                if docs_built is None: probs.append(f'{where}: publishes {publish}, but no earlier step of the job builds the docs (nbdev_docs)')
                elif Path(publish).as_posix().strip('./') != Path(docs_built).as_posix().strip('./'):
                    probs.append(f'{where}: publishes {publish}, but nbdev_docs writes {docs_built} (settings.ini doc_path)')
            if run := step.get('run'):
                for p in run_paths(run):
                    checked += 1
                    if not exists(p): probs.append(f'{where}: runs with {p}, which does not exist')
                if re.search(r'\bnbdev_docs\b', run):
                    docs_built, build_probs = docs_build_problems(cfg)
                    probs += [f'{where}: nbdev_docs: {p}' for p in build_probs]
                if re.search(r'pip install (-e|--editable) ', run):
                    installs = True
                    for cmd in readme_block('install'):
                        if cmd not in run: probs.append(f"{where}: installs the project but not with the README's install command `{cmd}`")
    return probs, checked, installs

def main() -> int:
    cp = configparser.ConfigParser(delimiters=['=']); cp.read('settings.ini', encoding='utf-8')
    cfg = cp['DEFAULT']
    files = sorted(WORKFLOWS.glob('*.y*ml'))
    if not files: print(f'FAIL no workflows in {WORKFLOWS}'); return 1
    failures = []
    for wf in files:
        probs, checked, _ = check(wf, cfg)
        failures += [f'{wf}: {p}' for p in probs]
        print(f'{"FAIL" if probs else "ok  "} {wf}: {checked} paths checked, {len(probs)} problems')
    tests = readme_block('test')
    runs = '\n'.join(str(s.get('run', '')) for wf in files for j in ((yaml.safe_load(wf.read_text()) or {}).get('jobs') or {}).values()
                     for s in j.get('steps') or [])
    for cmd in tests:
        if cmd not in runs: failures.append(f"no workflow runs the README's test command `{cmd}`")
    if not tests or not readme_block('install'): failures.append('README.md lacks its <!-- install --> or <!-- test --> block')
    for f in failures: print('FAIL', f)
    print(f'workflow check: {len(files)} workflows, {len(failures)} problems')
    return 1 if failures else 0

if __name__ == '__main__': sys.exit(main())
