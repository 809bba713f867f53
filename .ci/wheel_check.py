"""Check that the package is complete for importers: LICENSE matches settings.ini, and the wheel built from setup.py
carries every module of slowai/, the LICENSE and the `slowai` console script, and works installed on its own.

The wheel is built with `pip wheel --no-deps .` (build isolation: setuptools comes from the package index, as for a
release), installed with `--no-deps --no-index` into a fresh venv made without pip or system site-packages, and run
from a temporary folder outside the repository. The fresh venv reaches the dependencies (torch, ...) through one
`.pth` line naming this venv's site-packages, so nothing is downloaded again; `.pth` files there are not processed,
so this checkout's editable install of slowai stays out of sight, and the check asserts that slowai is imported
from the fresh venv.

Usage: python .ci/wheel_check.py   (from the repository root, in the development venv)"""
import configparser, os, site, subprocess, sys, sysconfig, tempfile, zipfile
from pathlib import Path

def check(ok, msg):
    print(('ok   ' if ok else 'FAIL ') + msg, flush=True)
    return bool(ok)

def run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if r.returncode: print(f"$ {' '.join(map(str, cmd))}\n{r.stdout[-3000:]}{r.stderr[-3000:]}")
    return r

def main() -> bool:
    root = Path.cwd()
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(root/'settings.ini', encoding='utf-8')
    cfg = cfg['DEFAULT']
    lic = root/'LICENSE'
    text = lic.read_text(encoding='utf-8') if lic.is_file() else ''
    ok = check(cfg['license'] == 'apache2' and text.lstrip().startswith('Apache License') and 'Version 2.0, January 2004' in text
               and 'END OF TERMS AND CONDITIONS' in text and f"Copyright {cfg['copyright']}" in text,
               f"LICENSE is the Apache License 2.0 with 'Copyright {cfg['copyright']}' (settings.ini: license = {cfg['license']})")
    with tempfile.TemporaryDirectory(prefix='slowai-wheel-') as tmp:
        tmp = Path(tmp)
        r = run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', tmp/'dist', '.'])
        wheels = sorted((tmp/'dist').glob('slowai-*.whl'))
        if not check(r.returncode == 0 and len(wheels) == 1, f"pip wheel built {', '.join(w.name for w in wheels) or 'no wheel'}"): return False
        whl = wheels[0]
        with zipfile.ZipFile(whl) as z:
            names = set(z.namelist())
            mods = sorted(p.relative_to(root).as_posix() for p in (root/'slowai').glob('*.py'))
            missing = [m for m in mods if m not in names]
            ok &= check(not missing, f"the wheel holds all {len(mods)} modules of slowai/" + (f"; missing {missing}" if missing else ''))
            lics = [n for n in names if '.dist-info/' in n and n.rsplit('/', 1)[-1] == 'LICENSE']
            ok &= check(lics and z.read(lics[0]).decode('utf-8') == text, f"the wheel carries LICENSE ({lics[0] if lics else 'absent'})")
            eps = [n for n in names if n.endswith('.dist-info/entry_points.txt')]
            ep = z.read(eps[0]).decode() if eps else ''
            ok &= check('slowai = slowai.cli:main' in ep, "the wheel declares the console script 'slowai = slowai.cli:main'")
        venv = tmp/'venv'
        r = run([sys.executable, '-m', 'venv', '--without-pip', venv])
        py = venv/'bin'/'python'
        purelib = Path(run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']).stdout.strip())
        (purelib/'_slowai_ci_deps.pth').write_text('\n'.join(site.getsitepackages()) + '\n')
        r = run([sys.executable, '-m', 'pip', '--python', py, 'install', '-q', '--no-deps', '--no-index', whl])
        if not check(r.returncode == 0, f"installed the wheel alone into a fresh venv ({venv.name}, no pip, no system site-packages)"): return False
        away = tmp/'elsewhere'; away.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
        env['PATH'] = f"{venv/'bin'}{os.pathsep}{env.get('PATH', '')}"
        r = run([venv/'bin'/'slowai', '--help'], cwd=away, env=env)
        ok &= check(r.returncode == 0 and 'usage: slowai' in r.stdout, f"'slowai --help' runs from {away}")
        code = ("import importlib, pkgutil, slowai; from slowai.adam import AdamW; "
                "[importlib.import_module('slowai.' + m.name) for m in pkgutil.iter_modules(slowai.__path__)]; print(slowai.__file__)")
        r = run([py, '-c', code], cwd=away, env=env)
        where = r.stdout.strip()
        ok &= check(r.returncode == 0 and where.startswith(str(purelib)),
                    f"'from slowai.adam import AdamW' and every module import from the installed wheel ({where or 'failed'})")
    return ok

if __name__ == '__main__': sys.exit(0 if main() else 1)
