"""git clean filter for notebooks (stdin -> stdout): leave out widget views and saved widget state.

A widget cell's output names its widget by a model id that is new on every run, and shows nothing once the kernel is
gone (JupyterLab does not save widget state by default), so git compares notebooks without them: running the own-image
app or the episode explorer in JupyterLab and saving leaves `git status` empty. Every other byte passes through unchanged.
Installed by `bash .ci/hooks` (git config filter.srpnet-widgets.clean; .gitattributes names the notebooks). Stdlib only."""
import json, sys

VIEW = 'application/vnd.jupyter.widget-view+json'

def strip(nb:dict) -> bool:
    "Remove widget-view outputs and the notebook's widget state from `nb` in place; True if anything was removed"
    changed = bool(nb.get('metadata', {}).pop('widgets', None))
    for cell in nb.get('cells', []):
        outs = cell.get('outputs')
        if not outs: continue
        kept = [o for o in outs if VIEW not in o.get('data', {})]
        if len(kept) < len(outs): cell['outputs'], changed = kept, True
    return changed

if __name__ == '__main__':
    raw = sys.stdin.buffer.read()
    try: nb = json.loads(raw)
    except ValueError: nb = None                      # not JSON (a conflict, a half-written file): pass it through
    if isinstance(nb, dict) and strip(nb):
        sys.stdout.write(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + '\n')
    else: sys.stdout.buffer.write(raw)
