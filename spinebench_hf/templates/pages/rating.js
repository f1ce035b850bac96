document.querySelectorAll('.case img').forEach(i=>i.addEventListener('click',()=>i.classList.toggle('zoomed')));
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
const cell=v=>{let t=String(v??'');if(/^[=+\-@\t\r]/.test(t))t="'"+t;return '"'+t.replace(/"/g,'""')+'"'};
function download(){if(!raterBox.value.trim()){alert('Enter your name first.');return;}const saved=load();
 const lines=[data.columns.map(cell).join(',')];
 data.rows.forEach(r=>{const s=saved[r.sample]||{};lines.push(data.columns.map(c=>cell(c==='rater'?raterBox.value.trim():
  c==='comment'?s.comment:data.criteria.includes(c)?s[c]:r[c])).join(','))});
 const a=document.createElement('a');a.href=URL.createObjectURL(new Blob([lines.join('\n')+'\n'],{type:'text/csv'}));
 a.download='rating_'+raterBox.value.trim().replace(/[^\w-]+/g,'_')+'.csv';document.body.appendChild(a);a.click();a.remove();}
document.addEventListener('change',save);document.addEventListener('input',e=>{if(e.target.tagName==='TEXTAREA')save()});
raterBox.addEventListener('input',restore);document.getElementById('download').addEventListener('click',download);
raterBox.value=localStorage.getItem('spinebench-rating:'+data.sheet+':last')||'';restore();