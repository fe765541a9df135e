"""Which cells of a notebook the browser check runs: exactly the cells `nbdev_test` runs (run in the project's .venv).

Usage: python .ci/browser_cells.py NOTEBOOK.ipynb  ->  JSON on stdout:
{"skip_exec": bool, "flags": [...], "cells": [{"index": i, "type": "code", "run": bool, "why": "..."}, ...],
 "images": number of committed image outputs}
"""
import json, sys
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc
from fastcore.basics import str2bool

def _why_skipped(cell, flags): # the reason `nbdev_test` would skip `cell`, or '' when it runs it (nbdev.test.test_nb's _no_eval)
    if cell.cell_type != 'code': return 'not code'
    if 'nbdev_export'+'(' in cell.source: return 'nbdev_export'
    direc = cell.directives_ or {}
    if direc.get('eval:', [''])[0].lower() == 'false': return 'eval: false'
    hit = sorted(flags & direc.keys())
    return '#| ' + ' '.join(hit) if hit else ''

def cells_to_run(fn:str): # the JSON description above, for the notebook at `fn`
    flags = set(get_config(path=fn).get('tst_flags', '').split())
    nb = NBProcessor(fn, rm_directives=False).nb # keeps every cell, so indices match the page's cells
    fm = getattr(NBProcessor(fn, procs=FrontmatterProc, process=True).nb, 'frontmatter_', {}) or {}
    cells = [dict(index=i, type=c.cell_type, run=not (why := _why_skipped(c, flags)), why=why) for i, c in enumerate(nb.cells)]
    images = sum(any(k.startswith('image/') for k in o.get('data', {})) for c in nb.cells for o in c.get('outputs', []))
    return dict(skip_exec=str2bool(fm.get('skip_exec', False)), flags=sorted(flags), cells=cells, images=images)

if __name__ == '__main__': print(json.dumps(cells_to_run(sys.argv[1])))
