"""Real-browser check of the notebooks in JupyterLab (issue 21 item 6). Run it through `bash .ci/browser`.

Starts `jupyter lab` from the project's .venv (token-less, free port, throwaway config/data dirs with nbdev's pre-save hook
installed the way `nbdev_install_hooks` installs it, the notebooks trusted as `nbdev_trust` trusts them, no SRPNET_* data
variables), drives the system Chromium with Playwright, and for each notebook: opens it and checks that its committed
figures render and show no widget errors; runs the cells `nbdev_test` runs (not `#| slow`/`#| gpu`) one by one through the
page (click the cell's prompt, Ctrl+Enter); uses its widgets as a user would (file chooser uploads, drawing on a canvas with
the mouse, slider drags, dropdowns, buttons: `SCENARIOS`), checking that each action changes the page; saves it (Ctrl+S);
takes screenshots into runs/browser/<notebook>/. Fails (exit 1) on a JavaScript console error, a widget error text, an
app's red error line or a Python traceback in an output, a figure that does not render, a widget action that changes
nothing, or a non-empty `git status` at the end (then runs/browser/changed/ holds each changed notebook and its figures
before/after, and the summary says what changed, cell by cell).

--snapshot checks a throwaway clone of the working tree (uncommitted changes included, as one commit) and touches nothing
here; --selftest checks the check against a notebook broken on purpose in each of the ways above.
"""
import argparse, json, math, os, re, shutil, signal, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = ['index', '21_ablation', '23_qualitative', '24_own_images']
IGNORED_DIRT = ('runs/', '.venv') # `git status` entries the check never counts (its own screenshots, the venvs)
WIDGET_ERRORS = re.compile(r"Error displaying widget|Model class '[^']*' from module '[^']*' (is )?not found|"
                           r"Failed to load model class|Error rendering output item")

def log(*a): print(*a, flush=True)

# ---------------------------------------------------------------- the tree, the server
def git(tree, *args, check=True): return subprocess.run(['git', '-C', str(tree), *args], capture_output=True, text=True, check=check).stdout

def dirty(tree): # `git status --porcelain` lines of `tree`, without the check's own files
    lines = git(tree, 'status', '--porcelain', '--untracked-files=all').splitlines()
    return [l for l in lines if not l[3:].strip('"').startswith(IGNORED_DIRT)]

def snapshot(tmp:Path): # a throwaway clone of REPO holding its working tree as one commit, so the check touches nothing here
    tree = tmp/'tree'
    subprocess.run(['git', 'clone', '-q', str(REPO), str(tree)], check=True)
    files = git(REPO, 'ls-files', '-z', '--cached', '--others', '--exclude-standard').split('\0')
    for f in filter(None, files):
        src, dst = REPO/f, tree/f
        if src.is_file(): dst.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(src, dst)
        elif dst.exists(): dst.unlink() # deleted in the working tree
    git(tree, 'add', '-A')
    git(tree, '-c', 'user.name=browser-check', '-c', 'user.email=browser@check', 'commit', '-q', '--allow-empty', '-m', 'snapshot')
    return tree

def _joined(x): # a notebook's JSON with multi-line strings saved as lists of lines (JupyterLab's layout) joined back
    if isinstance(x, dict): return {k: _joined(v) for k, v in x.items()}
    if isinstance(x, list): return ''.join(x) if x and all(isinstance(v, str) for v in x) else [_joined(v) for v in x]
    return x

def _short(o): return ' '.join(json.dumps(o, ensure_ascii=False).split())[:160]

def _output(o): # one output in words: its type, and its text or the size of its figure
    if o.get('output_type') == 'stream': return f"{o.get('name')} {_short(o.get('text', ''))}"
    if o.get('output_type') == 'error': return f"error {o.get('ename')}: {_short(o.get('evalue'))}"
    data = o.get('data', {})
    if (w := data.get('application/vnd.jupyter.widget-view+json')):
        return f"widget view (model_id {w.get('model_id')}) {_short(data.get('text/plain', ''))}"
    if (img := next((k for k in data if k.startswith('image/')), None)): return f'{img} figure, {len(data[img]) * 3 // 4 // 1024} KiB'
    return f"{'/'.join(data)}: {_short(data.get('text/plain', ''))}"

def _keep_figures(outs, stem, out): # write the figures of `outs` as files `stem`_k.<ext> under `out` (to compare by eye)
    import base64
    for k, o in enumerate(outs):
        for mime, data in o.get('data', {}).items():
            if mime in ('image/png', 'image/jpeg'):
                out.mkdir(parents=True, exist_ok=True); (out/f'{stem}_{k}.{mime[6:]}').write_bytes(base64.b64decode(data))

def explain_notebook_diff(tree, path, out=None): # what saving changed in notebook `path` (of `tree`), in words; figures into `out`
    old, new = (_joined(json.loads(t)) for t in (git(tree, 'show', f'HEAD:{path}'), (tree/path).read_text()))
    why = [] if old.get('metadata') == new.get('metadata') else [
        f'notebook metadata {_short(old.get("metadata"))} -> {_short(new.get("metadata"))}']
    if len(old['cells']) != len(new['cells']): return why + [f"{len(old['cells'])} cells -> {len(new['cells'])}"]
    for i, (a, b) in enumerate(zip(old['cells'], new['cells'])):
        for k in sorted(set(a) | set(b)):
            if a.get(k) == b.get(k): continue
            if k == 'outputs':
                gone = [o for o in a.get(k, []) if o not in b.get(k, [])]; came = [o for o in b.get(k, []) if o not in a.get(k, [])]
                why.append(f'cell {i} outputs: ' + '; '.join([f'lost {_output(o)}' for o in gone] + [f'new {_output(o)}' for o in came]))
                if out:
                    _keep_figures(gone, f'{Path(path).stem}_cell{i}_committed', out)
                    _keep_figures(came, f'{Path(path).stem}_cell{i}_saved', out)
            else: why.append(f'cell {i} {k}: {_short(a.get(k))} -> {_short(b.get(k))}')
    return why or ['nothing differs but the JSON layout (e.g. multi-line '
                   'strings as lists of lines, as JupyterLab writes them), or nothing at all']

def free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def jupyter_dirs(tmp:Path, venv_py:str): # throwaway Jupyter dirs: the pre-save hooks of .ci/hooks, quiet notifications, all cells in the DOM
    cfg, data, rt = tmp/'config', tmp/'data', tmp/'runtime'
    for d in (cfg, data, rt): d.mkdir(parents=True)
    hook = ("import sys; from pathlib import Path; from nbdev.clean import _add_jupyter_hooks\n"
            "for o in ('notebook', 'server'):\n"
            "    fn = Path(sys.argv[1])/f'jupyter_{o}_config.py'\n"
            "    upd = _add_jupyter_hooks(fn.read_text() if fn.exists() else '', fn)\n"
            "    if upd is not None: fn.write_text(upd)\n") # the loop of nbdev.clean.nbdev_install_hooks, into cfg not ~/.jupyter
    subprocess.run([venv_py, '-c', hook, str(cfg)], check=True)
    subprocess.run([venv_py, '-c', 'import sys; from srpnet.docs import install_save_hook; install_save_hook(sys.argv[1])', str(cfg)],
                   check=True)   # then srpnet's, as .ci/hooks installs it after nbdev_install_hooks: no widget views on save
    settings = cfg/'lab'/'user-settings'/'@jupyterlab'
    for ext, name, val in (('apputils-extension', 'notification', {'checkForUpdates': False, 'fetchNews': 'false'}),
                           ('notebook-extension', 'tracker', {'windowingMode': 'none'})):
        (settings/ext).mkdir(parents=True, exist_ok=True)
        (settings/ext/f'{name}.jupyterlab-settings').write_text(json.dumps(val))
    return dict(JUPYTER_CONFIG_DIR=str(cfg), JUPYTER_DATA_DIR=str(data), JUPYTER_RUNTIME_DIR=str(rt),
                JUPYTERLAB_SETTINGS_DIR=str(cfg/'lab'/'user-settings'), JUPYTERLAB_WORKSPACES_DIR=str(cfg/'lab'/'workspaces'))

def start_lab(tree:Path, venv:Path, tmp:Path, keep_data:bool, notebooks:list, logf): # (process, base url) of a token-less JupyterLab on `tree`
    env = {k: v for k, v in os.environ.items() if keep_data or not k.startswith('SRPNET_')} # a user has no DAVIS, no COCO
    env.pop('MPLBACKEND', None) # the kernel's inline backend draws the figures
    env.update(jupyter_dirs(tmp, str(venv/'bin'/'python')), PATH=f"{venv/'bin'}:{env['PATH']}")
    env.setdefault('OMP_NUM_THREADS', '1')
    env['PYTHONPATH'] = f"{tree}:{env.get('PYTHONPATH', '')}" # this tree's srpnet, whatever checkout .venv's editable install names
    for nb in notebooks: # trusted as nbdev's post-merge hook trusts them: committed widget, HTML and JS outputs render
        if (fn := tree/'nbs'/f'{nb}.ipynb').exists():
            subprocess.run([str(venv/'bin'/'nbdev_trust'), '--fname', str(fn), '--force_all'], cwd=tree, env=env, check=True,
                           stdout=logf, stderr=subprocess.STDOUT)
    port = free_port()
    cmd = [str(venv/'bin'/'jupyter'), 'lab', '--no-browser', f'--port={port}', '--ip=127.0.0.1', f'--ServerApp.root_dir={tree}',
           '--IdentityProvider.token=', '--ServerApp.password=', '--LabApp.expose_app_in_browser=True'
           ] + (['--allow-root'] if os.getuid() == 0 else [])
    proc = subprocess.Popen(cmd, cwd=tree, env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    base = f'http://127.0.0.1:{port}'
    for _ in range(120):
        if proc.poll() is not None: raise SystemExit(f'jupyter lab exited with code {proc.returncode}: see {logf.name}')
        try: urllib.request.urlopen(f'{base}/api/status', timeout=2); return proc, base
        except OSError: time.sleep(0.5)
    raise SystemExit(f'jupyter lab did not answer on {base} within 60 s: see {logf.name}')

def stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try: proc.wait(20)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL)

def sample_images(tmp:Path, venv_py:str): # {'image': a small JPEG (an orange ellipse on blue-grey), 'mask': that ellipse's mask}
    files = dict(image=tmp/'sample.jpg', mask=tmp/'sample_mask.png')
    subprocess.run([venv_py, '-c', "import sys; from PIL import Image, ImageDraw\n"
                    "im, m = Image.new('RGB', (320, 240), (90, 110, 140)), Image.new('L', (320, 240), 0)\n"
                    "ImageDraw.Draw(im).ellipse((100, 60, 230, 190), (230, 130, 40)); ImageDraw.Draw(m).ellipse((100, 60, 230, 190), 255)\n"
                    "im.save(sys.argv[1]); m.save(sys.argv[2])", str(files['image']), str(files['mask'])], check=True)
    return files

# ---------------------------------------------------------------- the page
JS = r"""
window.__nb = () => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                      return w && w.content && w.content.widgets && w.context ? w : null; };
window.__kernel = () => { const p = __nb(); const k = p && p.sessionContext.session && p.sessionContext.session.kernel;
                          return k ? k.status : 'none'; };
window.__cell = i => { const c = __nb().content.widgets[i];
  return {prompt: c.promptNode ? c.promptNode.textContent : '', count: c.model.executionCount === undefined ? null : c.model.executionCount,
          kernel: __kernel(), active: __nb().content.activeCellIndex}; };
window.__outputs = i => { const c = __nb().content.widgets[i]; return c.model.type === 'code' ? c.model.outputs.toJSON() : []; };
window.__cellOf = n => { const c = n.closest('.jp-Cell'); return __nb().content.widgets.findIndex(w => w.node === c); };
window.__outputTexts = () => Array.from(__nb().content.node.querySelectorAll('.jp-OutputArea-output'))
  .map(n => ({cell: __cellOf(n), text: n.innerText}));
window.__imgs = () => Array.from(__nb().content.node.querySelectorAll('img'));
window.__img = async i => { const im = __imgs()[i]; im.scrollIntoView({block: 'center'});
  try { await im.decode(); } catch (e) {}
  const r = im.getBoundingClientRect();
  return {cell: __cellOf(im), output: !!im.closest('.jp-OutputArea-output'), w: r.width, h: r.height,
          nw: im.naturalWidth, nh: im.naturalHeight, src: (im.getAttribute('src') || '').slice(0, 80)}; };
"""

def ev(page, expr, arg=None): return page.evaluate(expr, arg)

def wait_for(page, expr, timeout, arg=None, poll=0.25): # poll the JS `expr` until truthy (True), or `timeout` s (False)
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            if ev(page, expr, arg): return True
        except Exception: pass
        time.sleep(poll)
    return False

def open_notebook(page, base, name, timeout=180):
    page.goto(f'{base}/lab/tree/nbs/{name}.ipynb?reset', wait_until='domcontentloaded')
    page.wait_for_function('() => !!window.jupyterapp', timeout=timeout * 1000)
    ev(page, f'() => {{ {JS} }}')
    ok = wait_for(page, '() => { const p = __nb(); return p && p.context.isReady && p.sessionContext.isReady && __kernel() === "idle"; }',
                  timeout)
    if not ok:
        raise TimeoutError(f'{name}: the notebook or its kernel was not ready within {timeout} s (kernel: {ev(page, "() => __kernel()")})')
    page.wait_for_timeout(1500) # let markdown, outputs and widgets render

def run_cell(page, i, timeout): # select cell `i` with the mouse, Ctrl+Enter, wait for it; -> (seconds, timed out)
    before = ev(page, 'i => __cell(i)', i)
    node = page.evaluate_handle('i => __nb().content.widgets[i].node', i).as_element()
    node.scroll_into_view_if_needed()
    prompt = node.query_selector('.jp-InputPrompt')
    if prompt: prompt.click()
    else: node.click(position={'x': 5, 'y': 5})
    page.keyboard.press('Escape') # command mode: Ctrl+Enter runs the selected cell
    if ev(page, '() => __nb().content.activeCellIndex') != i: raise RuntimeError(f'clicking cell {i} did not select it')
    t0 = time.time(); page.keyboard.press('Control+Enter'); started = False
    while time.time() - t0 < timeout:
        s = ev(page, 'i => __cell(i)', i)
        if s['kernel'] == 'dead': raise RuntimeError(f'the kernel died running cell {i}')
        started = started or '*' in s['prompt'] or s['count'] != before['count'] or (time.time() - t0 > 5)
        if started and '*' not in s['prompt'] and s['count'] is not None and s['kernel'] == 'idle': return time.time() - t0, False
        time.sleep(0.2)
    ev(page, '() => __nb().sessionContext.session.kernel.interrupt()')
    return time.time() - t0, True

def wait_idle(page, timeout=120, settle=1.0): # wait for the kernel to take up (up to `settle` s) and finish; -> when it was idle
    wait_for(page, '() => __kernel() !== "idle"', settle, poll=0.05)
    wait_for(page, '() => __kernel() === "idle"', timeout, poll=0.05)
    t = time.time(); page.wait_for_timeout(int(settle * 1000)) # then let the page draw what the kernel sent
    return t

def output_problems(page, cells=None): # tracebacks and widget errors in the outputs of `cells` (default: all), model and page
    if cells is None: cells = range(ev(page, '() => __nb().content.widgets.length'))
    found = []
    for i in cells:
        for o in ev(page, 'i => __outputs(i)', i):
            if o.get('output_type') == 'error':
                tb = re.sub(r'\x1b\[[0-9;]*m', '', '\n'.join(o.get('traceback', [])))
                evalue = ' '.join(str(o.get('evalue')).split())[:300]
                found.append(f"cell {i}: {o.get('ename')}: {evalue}\n      " + '\n      '.join(tb.splitlines()[-4:]))
            text = json.dumps(o.get('text', '')) + json.dumps(o.get('data', {}).get('text/plain', ''))
            if 'Traceback (most recent call last)' in text: found.append(f'cell {i}: a Python traceback printed in an output')
    for o in ev(page, '() => __outputTexts()'):
        if o['cell'] in cells and (m := WIDGET_ERRORS.search(o['text'])):
            found.append(f"cell {o['cell']}: widget error shown: {o['text'][max(0, m.start() - 40):m.end() + 80]!r}")
    return sorted(set(found))

def image_problems(page, committed): # figures that do not render; `committed`: image outputs the file holds
    found, n_out = [], 0
    for k in range(ev(page, '() => __imgs().length')):
        im = ev(page, 'async k => await __img(k)', k)
        n_out += im['output']
        if not (im['nw'] and im['w'] >= 2 and im['h'] >= 2):
            found.append(f"cell {im['cell']}: an image does not render (natural {im['nw']}x{im['nh']}, "
                         f"shown {im['w']:.0f}x{im['h']:.0f}, src {im['src']!r})")
    if committed is not None and n_out < committed:
        found.append(f'{committed} image outputs in the file, {n_out} rendered on the page')
    return found

def shot(page, path, cell=None): # a screenshot of the viewport showing cell `cell`: its first figure, else its top
    if cell is not None: ev(page, '''i => { const n = __nb().content.widgets[i].node;
                                          (n.querySelector('.jp-OutputArea-output img') || n).scrollIntoView({block: 'start'}); }''', cell)
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    return path

OUT = '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output' # the outputs of the notebook on show

class Widgets:
    "The check's hands on the widgets of the notebook on show: each action waits for the kernel, takes a screenshot, logs"
    def __init__(self, page, out, shots): self.page, self.out, self.shots, self.done, self.problems = page, out, shots, [], []
    def look(self, loc): # a fingerprint of what the cell holding widget `loc` shows: its text, figures and canvases
        return loc.evaluate('''n => { const o = n.closest('.jp-Cell').querySelector('.jp-Cell-outputArea'); let h = 0;
            const s = o.innerText + Array.from(o.querySelectorAll('img')).map(i => i.src).join() +
                      Array.from(o.querySelectorAll('canvas')).map(c => { try { return c.toDataURL(); } catch (e) { return ''; } }).join();
            for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
            return h; }''')
    def find(self, css, label=''): # the first visible widget matching `css` whose text contains `label`
        loc = self.page.locator(f'{OUT} {css}:visible', **({'has_text': re.compile(re.escape(label), re.I)} if label else {}))
        return loc.first if loc.count() else None
    def _after(self, what, loc, before=None, t0=None): # wait, then show what changed: the newest figure of the widget's output
        idle = wait_idle(self.page, settle=0.5)
        if before is not None:
            if self.look(loc) == before: self.problems.append(f'{what}: nothing on the page changed')
            else: what += f' (the page changed; the kernel was done {idle - t0:.1f} s after)'
        figs = loc.locator('xpath=ancestor::div[contains(@class, "jp-OutputArea-output")]').locator('img')
        (figs.last if figs.count() else loc).scroll_into_view_if_needed()
        self.page.wait_for_timeout(300)
        path = self.out/f'widget{len(self.done):02d}.png'; self.page.screenshot(path=str(path)); self.shots.append(path)
        self.done.append(what); log(f'    widget: {what}')
    def upload(self, label, *files): # click a FileUpload and give its file chooser `files`, as a user does
        if not (w := self.find('.widget-upload', label)): return False
        before, t0 = self.look(w), time.time()
        with self.page.expect_file_chooser(timeout=10_000) as chooser: w.click()
        chooser.value.set_files([str(f) for f in files])
        self._after(f"uploaded {', '.join(Path(f).name for f in files)} to the {label or 'first'} upload", w, before, t0); return True
    def slide(self, label='', to=0.75): # drag a slider's handle to `to` of its track with the mouse
        if not (w := self.find('.widget-slider', label)): return False
        h, t = w.locator('.noUi-handle').first.bounding_box(), w.locator('.noUi-target').first.bounding_box()
        before, t0 = self.look(w), time.time()
        self.page.mouse.move(h['x'] + h['width'] / 2, h['y'] + h['height'] / 2); self.page.mouse.down()
        self.page.mouse.move(t['x'] + to * t['width'], h['y'] + h['height'] / 2, steps=8); self.page.mouse.up()
        self._after(f"moved the {label or 'first'} slider to {to:.0%} ({' '.join(w.inner_text().split())!r})", w, before, t0); return True
    def draw(self, radius=0.2): # a circle of mouse moves, button down, on the first visible canvas
        if not (w := self.find('canvas')): return False
        w.scroll_into_view_if_needed(); b = w.bounding_box()
        cx, cy, r = b['x'] + b['width'] / 2, b['y'] + b['height'] / 2, radius * min(b['width'], b['height'])
        before, t0 = self.look(w), time.time()
        self.page.mouse.move(cx + r, cy); self.page.mouse.down()
        for k in range(1, 41):
            a = k / 40 * 2 * math.pi; self.page.mouse.move(cx + r * math.cos(a), cy + r * math.sin(a), steps=2)
        self.page.mouse.up(); self._after(f"drew a circle on the {b['width']:.0f}x{b['height']:.0f} canvas", w, before, t0); return True
    def pick(self, label='', index=-1, css='.widget-dropdown'): # choose option `index` of a dropdown (or a select-multiple)
        if not (w := self.find(css, label)): return False
        sel = w.locator('select'); n = sel.evaluate('n => n.options.length')
        if n < 2: return False
        before, t0 = self.look(w), time.time()
        sel.select_option(index=index % n) # a dropdown shows its choice; a select-multiple's selection is not in its text
        what = f"picked option {index % n + 1} of {n} in the {label or 'first'} {css[8:]}"
        self._after(what, w, *((before, t0) if 'dropdown' in css else ())); return True
    def type(self, label, text): # replace the text of a text box and press Enter
        if not (w := self.find('.widget-text', label)): return False
        w.locator('input').fill(text); w.locator('input').press('Enter'); self._after(f'typed {text!r} into the {label!r} box', w); return True
    def tick(self, label): # click a checkbox
        if not (w := self.find('.widget-checkbox', label)): return False
        w.locator('input').click(); self._after(f'clicked the {label!r} checkbox', w); return True
    def press(self, label): # click a button
        if not (w := self.find('button', label)): return False
        before, t0 = self.look(w), time.time()
        w.click(); self._after(f'pressed the {label!r} button', w, before, t0); return True
    def said(self): # what the widgets' HTML lines show in red (an app's error messages)
        red = self.page.locator(f"{OUT} .widget-html span[style*='#c00']:visible, {OUT} .widget-html span[style*='color:red']:visible")
        return [t for t in red.all_inner_texts() if t.strip()]

def own_images_scenario(w, files): # 24_own_images: the app as a user drives it
    w.upload('image', files['image']); w.upload('mask', files['mask']); w.slide('brush', 0.5); w.draw()
    w.upload('queries', files['image']); w.pick('examples', 1, css='.widget-select-multiple')
    w.press('Segment'); w.tick('IQI'); w.press('Segment')
    w.press('add shot'); w.pick('or example', 8); w.press('Segment')
    saved = files['image'].parent/'own_images' # a new folder each run: Save refuses to overwrite an earlier run's files
    w.type('save to', str(saved)); w.press('Save')
    if not (saved.is_dir() and any(saved.iterdir())): w.problems.append(f'Save wrote nothing into {saved}')

def generic_scenario(w, files): # any other notebook: one input to each kind of widget it shows
    w.upload('', files['image']); w.pick(); w.slide(); w.draw()
    for label in ('Predict', 'Segment'): w.press(label)

SCENARIOS = {'24_own_images': own_images_scenario}

def interact(page, name, files, out, shots): # -> (what was done, problems: no response, red messages the widgets show)
    w = Widgets(page, out, shots)
    if page.locator(f'{OUT} .jupyter-widgets:visible').count(): SCENARIOS.get(name, generic_scenario)(w, files)
    return w.done, w.problems + [f'a widget says: {t!r}' for t in w.said()]

def save(page, timeout=60): # Ctrl+S; -> problem text or None. A 'file changed on disk' dialog is cancelled, never overwritten
    stamp = ev(page, '() => __nb().context.contentsModel.last_modified')
    ev(page, '() => __nb().content.node.focus()'); page.keyboard.press('Escape'); page.keyboard.press('Control+s')
    t0 = time.time()
    while time.time() - t0 < timeout:
        dlg = page.query_selector('.jp-Dialog')
        if dlg:
            text = dlg.inner_text(); c = page.query_selector('.jp-Dialog .jp-mod-reject')
            if c: c.click()
            return f'saving opened a dialog (cancelled): {" ".join(text.split())[:200]!r}'
        if ev(page, 's => !__nb().context.model.dirty && __nb().context.contentsModel.last_modified !== s', stamp): return None
        time.sleep(0.25)
    return f'the notebook was still unsaved {timeout} s after Ctrl+S'

# ---------------------------------------------------------------- one notebook, all of them
def check_notebook(page, base, tree, venv_py, name, out, files, cell_timeout, console): # -> summary dict
    fn = tree/'nbs'/f'{name}.ipynb'
    res = dict(name=name, run=0, code=0, skipped={}, seconds=0., shots=[], problems=[], widgets=[])
    t0, n_console = time.time(), len(console)
    try: _check(page, base, venv_py, name, fn, out, files, cell_timeout, res)
    except Exception as e:
        res['problems'].append(f'the check itself failed: {type(e).__name__}: {e}')
        try: res['shots'].append(shot(page, out/'failure.png'))
        except Exception: pass
    res['problems'] += [f'console: {c}' for c in console[n_console:]]
    res['seconds'] = time.time() - t0
    try: ev(page, 'async () => { const p = __nb(); if (p) await p.sessionContext.shutdown(); }') # the CPU for the next notebook
    except Exception: pass
    return res

def _check(page, base, venv_py, name, fn, out, files, cell_timeout, res):
    if not fn.exists(): res['note'] = f'nbs/{name}.ipynb does not exist yet: skipped'; return
    plan = json.loads(subprocess.run([venv_py, str(REPO/'.ci'/'browser_cells.py'), str(fn)], capture_output=True, text=True, check=True).stdout)
    out.mkdir(parents=True, exist_ok=True)
    open_notebook(page, base, name)
    n_cells = ev(page, '() => __nb().content.widgets.length')
    if n_cells != len(plan['cells']): res['problems'].append(f"the page shows {n_cells} cells, the file has {len(plan['cells'])}")
    res['shots'].append(shot(page, out/'00_open.png'))
    res['problems'] += [f'on opening: {p}' for p in image_problems(page, plan['images']) + output_problems(page)]
    code = [c for c in plan['cells'] if c['type'] == 'code']
    res['code'] = len(code)
    for c in code:
        if not c['run']: res['skipped'][c['index']] = c['why']
    to_run = [] if plan['skip_exec'] else [c['index'] for c in code if c['run']]
    for i in to_run:
        secs, timed_out = run_cell(page, i, cell_timeout)
        res['run'] += 1
        log(f'    cell {i:3d}: {secs:6.1f} s' + ('  TIMED OUT (interrupted)' if timed_out else ''))
        if timed_out: res['problems'].append(f'cell {i}: still running after {cell_timeout} s (interrupted)'); break
        probs = output_problems(page, [i])
        res['problems'] += probs
        if probs: break # like nbdev_test: later cells depend on this one
        if ev(page, 'i => __nb().content.widgets[i].node.querySelector(".jp-OutputArea-output")', i): # it shows something
            res['shots'].append(shot(page, out/f'cell{i:03d}.png', i))
    wait_idle(page)
    res['widgets'], probs = interact(page, name, files, out, res['shots'])
    res['problems'] += probs
    res['problems'] += [f'after running: {p}' for p in image_problems(page, None) + output_problems(page) if p not in res['problems']]
    if (p := save(page)): res['problems'].append(p)
    res['shots'].append(shot(page, out/'99_saved.png', 0))

def check_tree(tree:Path, notebooks:list, out:Path, tmp:Path, keep_data=False, cell_timeout=300., chromium='/usr/bin/chromium',
               headed=False): # -> (per-notebook results, problems found at the end): the whole check of `tree`
    from playwright.sync_api import sync_playwright
    venv = REPO/'.venv'; venv_py = str(venv/'bin'/'python')
    results, final = [], []
    before = dirty(tree)
    if tree == REPO and (mine := [l for l in before if any(l[3:].strip('"') == f'nbs/{n}.ipynb' for n in notebooks)]):
        raise SystemExit('these notebooks have uncommitted changes, which saving them in the browser would mix with its outputs:\n  '
                         + '\n  '.join(mine) + '\ncommit them first, or run `bash .ci/browser --snapshot` (checks a throwaway clone)')
    if before: log(f'note: git status is not empty before the check ({len(before)} entries): the final check will fail')
    if not re.search(r'^jupyter_hooks\s*=\s*true\s*$', (tree/'settings.ini').read_text(), re.M | re.I):
        log("note: settings.ini does not say `jupyter_hooks = True`: nbdev's pre-save hook will not clean saved notebooks")
    files = sample_images(tmp, venv_py)
    with open(out/'jupyter.log', 'w') as logf:
        proc, base = start_lab(tree, venv, tmp, keep_data, notebooks, logf)
        log(f'JupyterLab on {base} (root {tree}), log in {out/"jupyter.log"}')
        try:
            with sync_playwright() as pw:
                br = pw.chromium.launch(executable_path=chromium, headless=not headed, args=['--no-sandbox'])
                page = br.new_page(viewport={'width': 1440, 'height': 1000})
                console = []
                page.on('console', lambda m: m.type == 'error' and console.append(
                    f'{m.text[:300]} ({m.location.get("url", "")}:{m.location.get("lineNumber", "")})'))
                page.on('pageerror', lambda e: console.append(f'uncaught: {str(e)[:300]}'))
                for name in notebooks:
                    log(f'== {name}')
                    results.append(check_notebook(page, base, tree, venv_py, name, out/name, files, cell_timeout, console))
                br.close()
        finally: stop(proc)
    log_text = (out/'jupyter.log').read_text(errors='replace')
    errors = [l for l in log_text.splitlines() if l.startswith('[E ') or l.startswith('Traceback') or 'pre-save hook failed' in l.lower()]
    if errors: final.append(f'the JupyterLab server logged errors (see {out/"jupyter.log"}):\n      ' + '\n      '.join(errors[:10]))
    after = dirty(tree)
    if after: final.append('git status is not empty after the check:\n      ' + '\n      '.join(after))
    for l in after:
        path = l[3:].strip('"')
        if l[:2].strip() == 'M' and path.endswith('.ipynb'):
            final.append(f'{path} changed on saving: ' + '\n      '.join(explain_notebook_diff(tree, path, out/'changed')))
            if tree != REPO: (out/'changed').mkdir(exist_ok=True); shutil.copy2(tree/path, out/'changed'/Path(path).name)
    if after: (out/'git.diff').write_text(git(tree, 'diff'))
    return results, final

def report(results, final, out, seconds): # print the summary; -> number of problems
    log('\n== summary')
    for r in results:
        skipped = ', '.join(f'{i} ({w})' for i, w in r['skipped'].items())
        log(f"{r['name']}: " + (r.get('note') or f"{r['run']} of {r['code']} code cells run in the page, {r['seconds']:.0f} s, "
            f"{len(r['widgets'])} widget actions, {len(r['shots'])} screenshots in {out/r['name']}" + (f'; skipped: {skipped}' if skipped else '')))
        for p in r['problems']: log(f'  FAIL {p}')
    for p in final: log(f'  FAIL {p}')
    n = sum(len(r['problems']) for r in results) + len(final)
    log(f"{'PASS' if not n else 'FAIL'}: {len(results)} notebooks, {n} problems, {seconds:.0f} s")
    return n

SELFTEST_CELLS = [ # (source, committed outputs): each broken on purpose, but the first
    ('print("fine")', []),
    ('from IPython.display import display, Javascript\ndisplay(Javascript(\'console.error("selftest console error")\'))', []),
    ("display({'image/png': 'bm90IGEgcG5n'}, raw=True)", []), # base64 of 'not a png'
    ('1 + 1', [{'output_type': 'display_data', 'metadata': {}, 'data': {'text/plain': 'IntSlider(value=0)',
      'application/vnd.jupyter.widget-view+json': {'model_id': '0' * 32, 'version_major': 2, 'version_minor': 0}}}]),
    ('raise ValueError("selftest traceback")', []),
]

def selftest(out, tmp, **kw): # the check must find each fault of a notebook broken on purpose; -> number of faults it missed
    tree = tmp/'selftest'; (tree/'nbs').mkdir(parents=True)
    shutil.copy2(REPO/'settings.ini', tree/'settings.ini')
    cells = [dict(cell_type='code', execution_count=None, id=f'c{i}', metadata={}, outputs=o, source=src)
             for i, (src, o) in enumerate(SELFTEST_CELLS)]
    kernelspec = {'display_name': 'python3', 'language': 'python', 'name': 'python3'}
    nb = dict(cells=cells, metadata={'kernelspec': kernelspec}, nbformat=4, nbformat_minor=5)
    (tree/'nbs'/'selftest.ipynb').write_text(json.dumps(nb, indent=1) + '\n')
    (tree/'.gitignore').write_text('.ipynb_checkpoints/\n.last_checked\n')
    subprocess.run(['git', 'init', '-q', str(tree)], check=True); git(tree, 'add', '-A')
    git(tree, '-c', 'user.name=browser-check', '-c', 'user.email=browser@check', 'commit', '-q', '-m', 'selftest')
    results, final = check_tree(tree, ['selftest'], out, tmp, **kw)
    found = '\n'.join(results[0]['problems'] + final)
    expect = {'widget error': 'widget error shown', 'image': 'an image does not render', 'console error': 'selftest console error',
              'traceback': 'ValueError: selftest traceback', 'dirty git status': 'git status is not empty'}
    missed = [k for k, v in expect.items() if v not in found]
    log('\n== selftest: the problems it found\n' + found)
    log(f"selftest {'FAIL' if missed else 'PASS'}: " + (f'missed {missed}' if missed else f'found all {len(expect)} faults: {", ".join(expect)}'))
    return len(missed)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', default=NOTEBOOKS, help='notebook names in nbs/ (default: %(default)s)')
    ap.add_argument('--snapshot', action='store_true', help='check a throwaway clone of this working tree (touches nothing here)')
    ap.add_argument('--keep-data', action='store_true', help="keep SRPNET_* variables (DAVIS, COCO) in the kernel's environment")
    ap.add_argument('--cell-timeout', type=float, default=300, help='seconds one cell may run (default %(default)s)')
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--headed', action='store_true', help='show the browser window')
    ap.add_argument('--selftest', action='store_true', help='check the check: a notebook broken on purpose must fail in each way')
    a = ap.parse_args()
    out = REPO/'runs'/'browser'/('selftest' if a.selftest else ''); shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
    tmp, t0 = Path(tempfile.mkdtemp(prefix='srpnet-browser-')), time.time()
    kw = dict(keep_data=a.keep_data, cell_timeout=a.cell_timeout, chromium=a.chromium, headed=a.headed)
    try:
        if a.selftest: return 1 if selftest(out, tmp, **kw) else 0
        results, final = check_tree(snapshot(tmp) if a.snapshot else REPO, a.notebooks, out, tmp, **kw)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    n = report(results, final, out, time.time() - t0)
    if n and not a.snapshot and dirty(REPO):
        log('the notebooks were saved with what the check ran: `git diff nbs/` shows it, `git checkout -- nbs/` undoes it')
    return 1 if n else 0

if __name__ == '__main__': sys.exit(main())
