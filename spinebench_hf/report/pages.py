"""The two pages people look at: the results report (`report.html`) and the clinicians' rating form.

Both are one self-contained file (images embedded, styles and scripts inline, no network) that works opened from
disk. Every text that comes from a dataset or a model is escaped here, on the server side: a reply holding `<script>`
shows as text. The scripts only show and hide what is already on the page, and (the form) keep and export what
a rater enters.
"""

from __future__ import annotations

import base64
import html
import json

import pandas as pd

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1.5rem;
color:#1d2430;line-height:1.45;background:#fafbfc}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d9dee5;padding-bottom:.3rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem;background:#fff}
th,td{border:1px solid #d9dee5;padding:.25rem .5rem;text-align:right}th{background:#eef1f5}
td:first-child,th:first-child{text-align:left}
.case{background:#fff;border:1px solid #d9dee5;border-radius:8px;padding:1rem;margin:1rem 0}
.case img{width:min(100%,640px);height:auto;cursor:zoom-in;border-radius:4px;background:#000}
.case img.zoomed{width:100%;max-width:none;cursor:zoom-out}
.options li.correct{font-weight:600;color:#0a6b2d}.options li.correct::after{content:"  ✓ correct"}
pre{white-space:pre-wrap;background:#f3f5f8;padding:.6rem;border-radius:4px;font-size:.85rem}
.right{color:#0a6b2d;font-weight:600}.wrong{color:#a1141d;font-weight:600}
.filters button,.actions button{margin-right:.4rem;padding:.3rem .8rem;border:1px solid #9aa5b4;border-radius:4px;
background:#fff;cursor:pointer}.filters button.active{background:#1d2430;color:#fff}
.criterion{margin:.5rem 0}.criterion label{margin-right:.8rem;white-space:nowrap}.anchors{font-size:.8rem;color:#4a5568}
#progress{position:sticky;top:0;background:#1d2430;color:#fff;padding:.5rem 1rem;border-radius:4px;z-index:2}
textarea{width:100%;min-height:3rem}
"""

ZOOM = (
    "document.querySelectorAll('.case img').forEach(i=>i.addEventListener('click',()=>i.classList.toggle('zoomed')));"
)


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def image_tag(data: bytes | None, alt: str) -> str:
    if not data:
        return "<p><i>(image not saved in these results)</i></p>"
    kind = "jpeg" if data[:3] == b"\xff\xd8\xff" else "png"
    return f'<img alt="{esc(alt)}" src="data:image/{kind};base64,{base64.b64encode(data).decode("ascii")}">'


def png_tag(path) -> str:
    return image_tag(path.read_bytes(), path.stem) if path and path.exists() else ""


def frame_table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, escape=True, float_format=lambda value: f"{value:.4g}", na_rep="-", border=0)


def page(title: str, body: str, script: str = "") -> str:
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
        f"content='width=device-width,initial-scale=1'><title>{esc(title)}</title><style>{STYLE}</style></head>"
        f"<body>{body}<script>{script}</script></body></html>"
    )


def options_list(options: list[str], answer: list[str]) -> str:
    items = "".join(
        f"<li class='{'correct' if letter in answer else ''}'>{letter}: {esc(text)}</li>"
        for letter, text in zip("ABCDE", options)
    )
    return f"<ol class='options' type='A'>{items}</ol>"


# --- the results report -------------------------------------------------------------------------------------
GALLERY_SCRIPT = (
    ZOOM
    + """
const show=f=>{document.querySelectorAll('.filters button').forEach(b=>b.classList.toggle('active',b.dataset.filter===f));
document.querySelectorAll('.gallery .case').forEach(c=>{c.hidden=!(f==='all'||c.dataset.outcome===f)});
document.getElementById('shown').textContent=document.querySelectorAll('.gallery .case:not([hidden])').length;};
document.querySelectorAll('.filters button').forEach(b=>b.addEventListener('click',()=>show(b.dataset.filter)));
show('all');"""
)
FILTERS = (
    ("all", "All cases"),
    ("all-wrong", "Every model wrong"),
    ("all-right", "Every model right"),
    ("disagree", "Models disagree"),
)


def case_outcome(rows: pd.DataFrame) -> str:
    right = rows.acc.fillna(0) == 1
    return "all-right" if right.all() else "all-wrong" if not right.any() else "disagree"


def gallery_case(rows: pd.DataFrame, image: bytes | None) -> str:
    first = rows.iloc[0]
    replies = "".join(
        f"<div class='model'><b>{esc(row.model)}</b>: answered {esc(', '.join(row.extracted) or 'nothing')} "
        f"(read from: {esc(row.stage)}) <span class='{'right' if row.acc == 1 else 'wrong'}'>"
        f"{'right' if row.acc == 1 else 'wrong'}</span><details><summary>reply</summary><pre>{esc(row.reply)}</pre>"
        "</details></div>"
        for row in rows.itertuples()
    )
    return (
        f"<section class='case' data-outcome='{case_outcome(rows)}'><h3>{esc(first.task)}: {esc(first.id)}</h3>"
        f"{image_tag(image, first.id)}<p><b>Question:</b> {esc(first.question)}</p>"
        f"{options_list(list(first.options), list(first.answer))}{replies}</section>"
    )


def report_page(sections: list[tuple[str, str]], cases: pd.DataFrame, images: dict[str, bytes]) -> str:
    """`sections`: (title, HTML) in order; `cases`: the scored rows of the gallery's questions, every model."""
    body = "<h1>SpineBench results</h1>" + "".join(f"<h2>{esc(title)}</h2>{content}" for title, content in sections)
    buttons = "".join(f"<button data-filter='{key}'>{esc(label)}</button>" for key, label in FILTERS)
    gallery = "".join(gallery_case(rows, images.get(question)) for question, rows in cases.groupby("id", sort=False))
    body += (
        f"<h2>Case gallery</h2><p>A seeded sample per task: each model's reply, the answer read from it and "
        f"whether it is right. Click an image to enlarge it. <span id='shown'></span> shown.</p>"
        f"<div class='filters'>{buttons}</div><div class='gallery'>{gallery}</div>"
    )
    return page("SpineBench results", body, GALLERY_SCRIPT)


# --- the rating form ----------------------------------------------------------------------------------------
FORM_SCRIPT = (
    ZOOM
    + """
const data=JSON.parse(document.getElementById('sheet').textContent);
const raterBox=document.getElementById('rater');
const key=()=>'spinebench-rating:'+data.sheet+':'+raterBox.value.trim();
const load=()=>JSON.parse(localStorage.getItem(key())||'{}');
function restore(){const saved=load();
 document.querySelectorAll('input[type=radio]').forEach(r=>{r.checked=(saved[r.dataset.sample]||{})[r.dataset.criterion]===r.value});
 document.querySelectorAll('textarea').forEach(t=>{t.value=(saved[t.dataset.sample]||{}).comment||''});progress();}
function save(){if(!raterBox.value.trim())return;const saved={};
 document.querySelectorAll('input[type=radio]:checked').forEach(r=>{(saved[r.dataset.sample]??={})[r.dataset.criterion]=r.value});
 document.querySelectorAll('textarea').forEach(t=>{if(t.value)(saved[t.dataset.sample]??={}).comment=t.value});
 localStorage.setItem(key(),JSON.stringify(saved));localStorage.setItem('spinebench-rating:'+data.sheet+':last',raterBox.value.trim());progress();}
function progress(){const saved=load();const done=data.rows.filter(r=>data.criteria.every(c=>(saved[r.sample]||{})[c])).length;
 document.getElementById('done').textContent=done;}
const cell=v=>{let t=String(v??'');if(/^[=+\\-@\\t\\r]/.test(t))t="'"+t;return '"'+t.replace(/"/g,'""')+'"'};
function download(){if(!raterBox.value.trim()){alert('Enter your name first.');return;}const saved=load();
 const lines=[data.columns.map(cell).join(',')];
 data.rows.forEach(r=>{const s=saved[r.sample]||{};lines.push(data.columns.map(c=>cell(c==='rater'?raterBox.value.trim():
  c==='comment'?s.comment:data.criteria.includes(c)?s[c]:r[c])).join(','))});
 const a=document.createElement('a');a.href=URL.createObjectURL(new Blob([lines.join('\\n')+'\\n'],{type:'text/csv'}));
 a.download='rating_'+raterBox.value.trim().replace(/[^\\w-]+/g,'_')+'.csv';document.body.appendChild(a);a.click();a.remove();}
document.addEventListener('change',save);document.addEventListener('input',e=>{if(e.target.tagName==='TEXTAREA')save()});
raterBox.addEventListener('input',restore);document.getElementById('download').addEventListener('click',download);
raterBox.value=localStorage.getItem('spinebench-rating:'+data.sheet+':last')||'';restore();"""
)


def criterion_block(sample: str, key: str, title: str, anchors: dict[int, str]) -> str:
    choices = "".join(
        f"<label><input type='radio' name='{esc(sample)}-{key}' value='{score}' data-sample='{esc(sample)}' "
        f"data-criterion='{key}'> {score}</label>"
        for score in range(1, 6)
    )
    hints = "; ".join(f"{score} = {esc(text)}" for score, text in anchors.items()) or "(the appendix gives no anchors)"
    return f"<div class='criterion'><b>{esc(title)}</b><br>{choices}<div class='anchors'>{hints}</div></div>"


def rating_page(sample: pd.DataFrame, rubric: list, columns: list[str], sheet_id: str) -> str:
    """The blind form: image, question, options, correct answer and reply per sample; 1–5 per criterion; kept in
    the browser as entered; exported as the CSV `spinebench rating-summary` reads. No model name is on the page."""
    cards = []
    for row in sample.itertuples():
        criteria = "".join(criterion_block(row.sample, key, title, anchors) for key, title, _, anchors in rubric)
        cards.append(
            f"<section class='case'><h2>{esc(row.sample)} ({esc(row.task)})</h2>{image_tag(row.image, row.sample)}"
            f"<p><b>Question:</b> {esc(row.question)}</p><p><b>Options:</b> {esc(row.options)}</p>"
            f"<p><b>Correct answer:</b> {esc(row.correct)}</p><p><b>Reply:</b></p><pre>{esc(row.reply)}</pre>"
            f"{criteria}<label>Comment<textarea data-sample='{esc(row.sample)}'></textarea></label></section>"
        )
    rubric_text = "".join(f"<li><b>{esc(title)}</b>: {esc(focus)}</li>" for _, title, focus, _ in rubric)
    criteria = [key for key, *_ in rubric]
    rows = sample[[c for c in columns if c in sample.columns]].to_dict("records")
    data = json.dumps({"sheet": sheet_id, "criteria": criteria, "columns": columns, "rows": rows})
    body = (
        f"<div id='progress'><span id='done'>0</span> of {len(sample)} replies rated · rater "
        f"<input id='rater' placeholder='your name'> <span class='actions'><button id='download'>Download my CSV"
        "</button></span></div><h1>SpineBench reasoning rating</h1><p>Rate each reply from 1 to 5 on every "
        "criterion (the paper's appendix D, Figure 11). Your answers are kept in this browser as you enter them; "
        "when you are done, download your CSV and send it back. The models are not named.</p>"
        f"<ul>{rubric_text}</ul>{''.join(cards)}"
        f"<script type='application/json' id='sheet'>{data.replace('<', chr(92) + 'u003c')}</script>"
    )
    return page("SpineBench reasoning rating", body, FORM_SCRIPT)
