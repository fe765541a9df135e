"""Render nbs/index.ipynb to README.md (nbdev_readme needs Quarto, which these machines lack).

Markdown cells are copied, code cells become ```python blocks followed by their outputs: markdown outputs (the
notebook's `display(Markdown(...))` tables) as they are, text outputs in ``` blocks; cells starting with `#| hide` are
left out. `python .ci/readme.py --check` exits 1 when README.md is out of step."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def outputs(cell:dict) -> list:
    "A code cell's outputs as README parts: markdown as it is, consecutive text outputs in one ``` block"
    parts, text = [], ''
    def flush():
        nonlocal text
        if text.strip(): parts.append('```\n' + text.rstrip() + '\n```')
        text = ''
    for o in cell.get('outputs', []):
        data = o.get('data', {})
        if 'text/markdown' in data: flush(); parts.append(''.join(data['text/markdown']).strip())
        else: text += ''.join(o.get('text', '')) if o.get('output_type') == 'stream' else ''.join(data.get('text/plain', ''))
    flush()
    return parts

def render(nb_path=root/'nbs'/'index.ipynb') -> str:
    parts = []
    for cell in json.loads(nb_path.read_text())['cells']:
        src = ''.join(cell['source']).strip()
        if not src or src.startswith('#| hide'): continue
        if cell['cell_type'] == 'markdown': parts.append(src); continue
        lines = [l for l in src.splitlines() if not l.startswith('#|')]
        parts += ['```python\n' + '\n'.join(lines) + '\n```'] + outputs(cell)
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    readme, text = root/'README.md', render()
    if '--check' in sys.argv:
        if readme.read_text() != text: sys.exit('README.md is out of step with nbs/index.ipynb: run python .ci/readme.py')
        print('README.md is in step with nbs/index.ipynb')
    else: readme.write_text(text); print('wrote', readme)
