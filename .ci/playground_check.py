"""Browser check of lesson 15a's momentum playground: render the page as the docs check does (nbdev's processing, then
pandoc to standalone HTML), open it in headless Chromium (Debian's `chromium` and `chromium-driver`, driven by Selenium
with the driver's path given, so nothing is downloaded), and check that the widget works without a kernel or network:

- it draws a path on the surface and a loss curve, with no JavaScript error in the console;
- moving the learning-rate slider (arrow keys), the momentum slider (Home key), a preset button and the optimiser
  menu each changes the drawn path (the SVG path's `d` attribute) and the text under the plots;
- the widget loads nothing from the network (the browser gets none: every host name fails to resolve), every control
  has a label, the legend and plot text are at least 12 px;
- at 390 px (a phone) nothing in the widget is wider than the window.

Screenshots of the widget at 1280 px (an 800 px column, as Quarto's) and 390 px window widths land in
`_playground_check/`. Prints `ok ...` lines and
exits 1 with `FAIL ...` lines on any problem.

Usage (from the repository root): python .ci/playground_check.py"""
import os, shutil, sys, time
from pathlib import Path

NB, OUT = 'nbs/15a_playground.ipynb', Path('_playground_check')
CHROMIUM, CHROMEDRIVER = shutil.which('chromium') or '/usr/bin/chromium', shutil.which('chromedriver') or '/usr/bin/chromedriver'
failures = []

def check(cond, what):
    "Record `what` as a failure unless `cond`; print it either way."
    print(('ok  ' if cond else 'FAIL ') + what)
    if not cond: failures.append(what)
    return cond

def render() -> Path:
    """The page as HTML: the docs check's rendering in `_docs_check/` when it is newer than the notebook, else the
    notebook alone rendered the same way (nbdev's docs processing, `docs_check.normalise`, pandoc)."""
    done = Path('_docs_check') / (Path(NB).stem + '.html')
    if done.exists() and done.stat().st_mtime > Path(NB).stat().st_mtime: return done
    sys.path.insert(0, str(Path(__file__).parent))
    from docs_check import normalise
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    import pypandoc
    nb = OUT / Path(NB).name
    os.environ['IN_TEST'] = '1'  # as nbdev's docs build does for the cells it runs
    processed = read_nb(NB); FilterDefaults()(processed); write_nb(processed, nb)
    front = normalise(nb)
    html = OUT / (nb.stem + '.html')
    meta = [f'--metadata={k}:{front[k]}' for k in ('title', 'subtitle') if front.get(k)]
    if front.get('description'): meta.append(f"--metadata=subtitle:{front['description']}")
    pypandoc.convert_file(str(nb.absolute()), 'html5', format='ipynb', outputfile=str(html.absolute()), cworkdir=str(OUT),
                          extra_args=[*meta, '--standalone', '--mathml'])
    return html

def browser():
    "Headless Chromium through Debian's chromedriver (Selenium is told where both are, so it downloads nothing)."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--window-size=1280,2400',
              '--hide-scrollbars', '--force-device-scale-factor=1', '--host-resolver-rules=MAP * ~NOTFOUND'):
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)

def load(d, html):
    """Open the page with its column widened to 800 px, the width of a Quarto page's text column (pandoc's template
    keeps 36em; the body's padding is kept, so at 390 px the column is narrower than the window, as on a phone), and
    wait for the widget to draw."""
    from selenium.webdriver.support.ui import WebDriverWait
    d.get(html.absolute().as_uri())
    d.execute_script("document.body.style.maxWidth = 'calc(800px + ' + getComputedStyle(document.body).paddingLeft + ' * 2)'; "
                     "document.body.style.boxSizing = 'border-box'")
    WebDriverWait(d, 20).until(lambda d: d.execute_script("return !!document.querySelector('#slowai-pg #pg-path')"))
    time.sleep(0.3)  # the widget redraws at the new width (ResizeObserver)

def state(d):
    "What the widget shows now: the path's and loss curve's `d`, the readout and the two slider outputs."
    return d.execute_script("""const r = document.getElementById('slowai-pg'), q = s => r.querySelector(s);
        return {path: q('#pg-path') && q('#pg-path').getAttribute('d'), loss: q('#pg-loss-path') && q('#pg-loss-path').getAttribute('d'),
                readout: q('#pg-readout').textContent, lr: q('#pg-lr-out').textContent, mom: q('#pg-mom-out').textContent};""")

def changed(d, before, what, action):
    "Do `action`, then check that the path, the loss curve and the readout all changed; return the new state."
    action()
    after = state(d)
    check(after['path'] != before['path'] and after['loss'] != before['loss'] and after['readout'] != before['readout'],
          f"{what} changes the plot (lr {before['lr']} -> {after['lr']}, momentum {before['mom']} -> {after['mom']})")
    return after

def main() -> int:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
    sys.stdout.reconfigure(line_buffering=True)  # each line as it happens, also through .ci/run's pipes
    shutil.rmtree(OUT, ignore_errors=True); OUT.mkdir()
    t0 = time.time()
    html = render()
    print(f'ok  rendered {html} in {time.time() - t0:.0f} s')
    t0 = time.time()
    d = browser()
    try:
        load(d, html)
        s0 = state(d)
        check(bool(s0['path']) and s0['path'].count('L') > 100 and bool(s0['loss']), f"the widget draws a path ({s0['path'].count('L')} segments) and a loss curve")
        check('After 150 steps' in s0['readout'], f"the readout: {s0['readout'][:90]}...")
        root = d.find_element(By.ID, 'slowai-pg')
        check(root.size['width'] == 800, f"the widget is {root.size['width']} px wide in an 800 px column")
        root.screenshot(str(OUT / 'playground-1280.png'))
        lr, mom = d.find_element(By.ID, 'pg-lr'), d.find_element(By.ID, 'pg-mom')
        s1 = changed(d, s0, 'the learning-rate slider (3 x arrow right)', lambda: lr.send_keys(Keys.ARROW_RIGHT * 3))
        s2 = changed(d, s1, 'the momentum slider (Home: momentum 0)', lambda: mom.send_keys(Keys.HOME))
        check(s2['mom'] == '0', f"the momentum output reads {s2['mom']!r} after Home")
        best = d.find_element(By.ID, 'pg-best')
        s3 = changed(d, s2, 'the "best momentum" button', best.click)
        changed(d, s3, 'the optimiser menu (Adam)', lambda: Select(d.find_element(By.ID, 'pg-opt')).select_by_value('adam'))
        # The lesson's own images outside the widget (the Colab badge) may be remote, and fail to load here: the network
        # is closed to this browser (--host-resolver-rules). Anything else remote comes from the widget.
        page_imgs = d.execute_script("return [...document.images].filter(i => !i.closest('#slowai-pg')).map(i => i.src)")
        errors = [e['message'] for e in d.get_log('browser') if e['level'] == 'SEVERE']
        errors = [m for m in errors if not any(m.startswith(u) for u in page_imgs)]
        check(not errors, f'no JavaScript errors in the console {[m[:200] for m in errors] if errors else ""}')
        remote = d.execute_script("return performance.getEntriesByType('resource').map(e => e.name).filter(n => !/^(file|data|blob):/.test(n))")
        remote = [u for u in remote if u not in page_imgs]
        check(not remote, f'the widget loads nothing from the network {remote if remote else ""}')
        unlabelled = d.execute_script("""return [...document.querySelectorAll('#slowai-pg input, #slowai-pg select, #slowai-pg button')]
            .filter(e => !(e.labels && e.labels.length) && !e.textContent.trim()).map(e => e.id)""")
        check(not unlabelled, f'every control has a label or text {unlabelled if unlabelled else ""}')
        small = d.execute_script("""return [...document.querySelectorAll('#slowai-pg .pg-legend li, #slowai-pg svg text, #slowai-pg label, #slowai-pg button')]
            .map(e => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)]).filter(([, s]) => s < 12)""")
        check(not small, f'legend, labels and plot text are at least 12 px {small if small else ""}')
        changed(d, state(d), 'the surface menu (Rosenbrock)', lambda: Select(d.find_element(By.ID, 'pg-surface')).select_by_value('rosenbrock'))
        root.screenshot(str(OUT / 'playground-1280-rosenbrock.png'))
        d.set_window_size(390, 2400)
        load(d, html)
        widths = d.execute_script("""const r = document.getElementById('slowai-pg');
            return {win: window.innerWidth, widget: r.getBoundingClientRect().right, svg: Math.max(...[...r.querySelectorAll('svg')].map(s => s.getBoundingClientRect().right)),
                    scroll: r.scrollWidth - r.clientWidth}""")
        check(widths['widget'] <= widths['win'] + 1 and widths['svg'] <= widths['win'] + 1 and widths['scroll'] <= 1,
              f'at 390 px the widget fits the window ({widths})')
        d.find_element(By.ID, 'slowai-pg').screenshot(str(OUT / 'playground-390.png'))
        changed(d, state(d), 'at 390 px, the learning-rate slider (arrow left)', lambda: d.find_element(By.ID, 'pg-lr').send_keys(Keys.ARROW_LEFT))
    finally:
        d.quit()
    print(f'ok  browser checks took {time.time() - t0:.0f} s; screenshots in {OUT}/')
    for f in failures: print('FAIL', f)
    print(f"playground check: {'passed' if not failures else f'{len(failures)} problems'}")
    return 1 if failures else 0

if __name__ == '__main__': sys.exit(main())
