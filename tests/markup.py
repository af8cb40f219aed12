"""Hostile markup: a notebook with a payload in every place a notebook renderer honours.

HTML in Markdown (handlers, script, SVG, iframes, styles, forms, meta refresh, base),
Markdown links and images, a Mermaid block (nbconvert writes its text into the page
unescaped), raw cells, attachments, outputs, widget state, cell metadata (a grade_id that
breaks out of formgrader's attribute, a cell hidden from the grader, tags formgrader makes
CSS classes) and headings that take formgrader's own ids. Each payload, when it runs, calls
the browser's probe (tests/browser.py) and requests ``/pwned/<name>`` from the page's own
origin, where a real one would POST to ``/api/kernels``.
"""

from __future__ import annotations

import base64
import html
import json

import nbformat

from autograder.authoring.submissions import build_submission
from autograder.course.assignments import Assignment

A = Assignment("cnn_step_by_step")


def js(name: str) -> str:
    """What a payload does when it runs: tell the test, and make a request from the instructor's origin."""
    return f"autograderProbe('{name}');fetch('/pwned/{name}')"


SRCDOC = f"<script>{js('iframe_srcdoc')}</script>"
MARKDOWN = {  # payload -> a Markdown cell of the student's
    "img_onerror": f'<img src=x onerror="{js("img_onerror")}">',
    "script": f"<script>{js('script')}</script>",
    "svg_onload": f'<svg onload="{js("svg_onload")}"><circle r="4"/></svg>',
    "iframe_srcdoc": f'<iframe srcdoc="{html.escape(SRCDOC)}"></iframe>',
    "details_ontoggle": f'<details open ontoggle="{js("details_ontoggle")}"><summary>s</summary>x</details>',
    "input_autofocus": f'<input autofocus onfocus="{js("input_autofocus")}">',
    "mermaid": f'```mermaid\n<img src=x onerror="{js("mermaid")}">\n```',
    "style_import": "<style>@import url('/pwned/style_import');</style>",
    "style_attribute": '<div style="background-image: url(/pwned/style_attribute)">styled</div>',
    "link_stylesheet": '<link rel="stylesheet" href="/pwned/link_stylesheet">',
    "object": '<object data="/pwned/object"></object>',
    "embed": '<embed src="/pwned/embed">',
    "video_poster": '<video poster="/pwned/video_poster"></video>',
    "markdown_image": "![tracker](/pwned/markdown_image)",
    "remote_image": "![tracker](https://tracker.example/pixel.png)",
    "base_href": '<base href="/pwned/base_href/">',
    "meta_refresh": '<meta http-equiv="refresh" content="3;url=/pwned/meta_refresh">',
    "javascript_link": f"[click for full marks](javascript:{js('javascript_link')})",
    "form": '<form action="/pwned/form" method="post"><button>Full credit</button></form>',
    "clobber": "# statusmessage\n\n# test_zero_pad",  # formgrader's own ids: its script finds the student's
}
WRITTEN = 'ReLU keeps x when x > 0 & drops it when x < 0, "max(0, x)".'
HIDDEN = "This answer is hidden from the grader."
SVG = (
    f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js("svg_attachment")}"><script>{js("svg_script")}</script></svg>'
)
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5e7d5f50000000049454e44ae426082"
)).decode()  # fmt: skip
# What the unsanitised notebook runs and loads in Chromium, with formgrader's page around it (the control).
LIVE = {"img_onerror", "script", "svg_onload", "iframe_srcdoc", "details_ontoggle", "mermaid", "grade_id",
        "output_html", "output_javascript", "output_script"}  # fmt: skip
LOADS = {"style_import", "style_attribute", "link_stylesheet", "object", "embed", "video_poster", "markdown_image"}
# Every element and attribute in the notebook's part of the page that could run or load something.
AUDIT = """(() => {
  const container = document.querySelector('#notebook-container'), bad = [];
  const allowed = v => /^(https?:|mailto:|#|data:image\\/(png|jpeg|gif|webp);base64,)/i.test(v.trim());
  for (const el of container.querySelectorAll('*')) {
    if (['SCRIPT','IFRAME','OBJECT','EMBED','BASE','META','LINK','STYLE','FORM','SVG','MATH','VIDEO','AUDIO']
        .includes(el.tagName.toUpperCase())) bad.push(el.tagName);
    for (const a of el.attributes) {
      if (a.name.startsWith('on') || a.name === 'srcdoc' || a.name === 'srcset') bad.push(el.tagName + '@' + a.name);
      if (['href','src','action','formaction','poster','data','background'].includes(a.name) && !allowed(a.value))
        bad.push(el.tagName + '@' + a.name + '=' + a.value.slice(0, 40));
      if (a.name === 'style' && /url\\(|@import|expression/i.test(a.value)) bad.push(el.tagName + '@style');
    }
  }
  return {bad, text: document.body.innerText, statusmessage: document.querySelectorAll('#statusmessage').length,
          test_zero_pad: document.querySelectorAll('#test_zero_pad').length};
})()"""


def hostile_notebook() -> dict:
    """An honest cnn_step_by_step submission with every payload added (see the module's docstring)."""
    nb = build_submission(A, extra_cells=["x = 1"])
    cells = [nbformat.v4.new_markdown_cell(src) for src in MARKDOWN.values()]
    cells.append(nbformat.v4.new_markdown_cell(WRITTEN + "\n\n```python\nif a < b and c > d: pass\n```"))
    hidden = nbformat.v4.new_markdown_cell(HIDDEN, metadata={"transient": {"remove_source": True}})
    cells.append(hidden)
    breakout = f'x"><img src=x onerror="{js("grade_id")}"><b class="'
    cells.append(nbformat.v4.new_markdown_cell("My written answer.", metadata={"nbgrader": {
        "grade": True, "solution": True, "locked": False, "points": 5, "grade_id": breakout, "schema_version": 3}}))  # fmt: skip
    cells.append(nbformat.v4.new_markdown_cell("![a](attachment:evil.svg) ![b](attachment:dot.png)", attachments={
        "evil.svg": {"image/svg+xml": base64.b64encode(SVG.encode()).decode()}, "dot.png": {"image/png": PNG}}))  # fmt: skip
    raw = nbformat.v4.new_raw_cell(f'<script>{js("raw_script")}</script><img src=x onerror="{js("raw_img")}">')
    raw.metadata["raw_mimetype"] = "text/html"
    cells.append(raw)
    nb["cells"] += [json.loads(json.dumps(c)) for c in cells]
    own = next(c for c in nb["cells"] if c["cell_type"] == "code" and c["source"] == "x = 1")
    own["outputs"] = [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": f'<img src=x onerror="{js("output_html")}">', "text/plain": "x"}},
        {"output_type": "display_data", "metadata": {}, "data": {"application/javascript": js("output_javascript")}},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {},
         "data": {"text/html": f"<script>{js('output_script')}</script>"}},
    ]  # fmt: skip
    nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {"version_major": 2, "version_minor": 0,
                                 "state": {}}}  # fmt: skip
    for cell in nb["cells"]:
        cell["metadata"].setdefault("tags", []).append("hidden")  # formgrader makes tags CSS classes
    return nb
