"""Render nbs/index.ipynb to README.md (nbdev_readme needs Quarto, which these machines lack).

Markdown cells are copied, code cells become ```python blocks followed by their text output; cells starting
with `#| hide` are left out. `python .ci/readme.py --check` exits 1 when README.md is out of step."""
import json, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def render(nb_path=root/'nbs'/'index.ipynb') -> str:
    parts = []
    for cell in json.loads(nb_path.read_text())['cells']:
        src = ''.join(cell['source']).strip()
        if not src or src.startswith('#| hide'): continue
        if cell['cell_type'] == 'markdown': parts.append(src); continue
        lines = [l for l in src.splitlines() if not l.startswith('#|')]
        parts.append('```python\n' + '\n'.join(lines) + '\n```')
        text = ''.join(''.join(o.get('text', '')) if o.get('output_type') == 'stream'
                       else ''.join(o.get('data', {}).get('text/plain', '')) for o in cell.get('outputs', []))
        if text.strip(): parts.append('```\n' + text.rstrip() + '\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    readme, text = root/'README.md', render()
    if '--check' in sys.argv:
        if readme.read_text() != text: sys.exit('README.md is out of step with nbs/index.ipynb: run python .ci/readme.py')
        print('README.md is in step with nbs/index.ipynb')
    else: readme.write_text(text); print('wrote', readme)
