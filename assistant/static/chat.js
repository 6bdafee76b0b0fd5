// 问答 tab, the chat log (#qa-chat): citation clicks open the source, copy buttons, and the newest question kept
// in view while its answer streams. Runs as Gradio `js_on_load` (`element`, `trigger`, `watch`), see ui/chat.py.
const copyText = async (text) => {
  try { await navigator.clipboard.writeText(text); return true; } catch (e) {}
  const ta = document.createElement('textarea');
  ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
  document.body.appendChild(ta); ta.select();
  let ok = false; try { ok = document.execCommand('copy'); } catch (e) {}
  ta.remove(); return ok;
};
// A new question is brought to the top of the chat box and kept there while its answer streams in
// (on phones, where the box does not scroll, the page scrolls to it once).
// A refusal's nearest passages (<details class="qa-near">) are open on wide screens and collapsed on phones,
// unless the reader opened or closed them: that choice is kept per turn across re-renders.
const nearChoice = new Map();
const applyNear = () => {
  if (!element.querySelector('.qa-turn')) nearChoice.clear();
  const wide = window.matchMedia('(min-width: 641px)').matches;
  element.querySelectorAll('details.qa-near').forEach((d) => {
    const key = (d.closest('.qa-turn') || {dataset: {}}).dataset.turn;
    const open = nearChoice.has(key) ? nearChoice.get(key) : wide;
    if (d.open !== open) { d.dataset.auto = '1'; d.open = open; }
  });
};
element.addEventListener('toggle', (ev) => {
  const d = ev.target;
  if (!(d instanceof HTMLDetailsElement) || !d.classList.contains('qa-near')) return;
  if (d.dataset.auto) { delete d.dataset.auto; return; }  // our own opening, not the reader's
  nearChoice.set((d.closest('.qa-turn') || {dataset: {}}).dataset.turn, d.open);
}, true);
applyNear();
let turnCount = element.querySelectorAll('.qa-turn').length;
let pinned = null;
watch('value', () => {
  applyNear();
  const all = element.querySelectorAll('.qa-turn');
  const box = element.closest('#qa-chat');
  const boxScrolls = box && getComputedStyle(box).overflowY !== 'visible';
  if (all.length > turnCount) {
    pinned = all.length - 1;
    if (!boxScrolls) all[pinned].scrollIntoView({block: 'start', behavior: 'smooth'});
  }
  turnCount = all.length;
  if (pinned !== null && boxScrolls && all[pinned]) {
    box.scrollTop += all[pinned].getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
  if (pinned !== null && all[pinned] && !all[pinned].querySelector('[data-state="streaming"]')) pinned = null;
});
element.addEventListener('click', async (ev) => {
  const cite = ev.target.closest('[data-cite]');
  if (cite) {
    ev.preventDefault();
    element.querySelectorAll('.qa-active').forEach(el => el.classList.remove('qa-active'));
    const turn = cite.closest('.qa-turn');
    (turn || element).querySelectorAll(`[data-cite][data-n="${cite.dataset.n}"]`)
      .forEach(el => el.classList.add('qa-active'));
    trigger('select', {doc_id: cite.dataset.doc, start: Number(cite.dataset.start),
                       end: Number(cite.dataset.end), n: Number(cite.dataset.n)});
    return;
  }
  const copy = ev.target.closest('[data-copy]');
  if (copy) {
    ev.preventDefault();
    const src = copy.closest('.qa-answer').querySelector('.qa-copy-src');
    const ok = await copyText(src ? src.value : '');
    const label = copy.textContent;
    copy.textContent = ok ? '已复制' : '复制失败，请手动选择文字';
    setTimeout(() => { copy.textContent = label; }, 1800);
  }
});
