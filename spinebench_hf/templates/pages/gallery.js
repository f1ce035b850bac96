document.querySelectorAll('.case img').forEach(i=>i.addEventListener('click',()=>i.classList.toggle('zoomed')));
const show=f=>{document.querySelectorAll('.filters button').forEach(b=>b.classList.toggle('active',b.dataset.filter===f));
document.querySelectorAll('.gallery .case').forEach(c=>{c.hidden=!(f==='all'||c.dataset.outcome===f)});
document.getElementById('shown').textContent=document.querySelectorAll('.gallery .case:not([hidden])').length;};
document.querySelectorAll('.filters button').forEach(b=>b.addEventListener('click',()=>show(b.dataset.filter)));
show('all');