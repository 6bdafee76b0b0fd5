// 课程素材 review (#qa-pack-review): ticking an item updates its section's count; nothing goes to the
// server until export. Gradio `js_on_load`, see ui/pack.py.
element.addEventListener('change', (ev) => {
  const box = ev.target.closest('input[type=checkbox][data-id]');
  if (!box) return;
  box.closest('li').classList.toggle('qa-pack-off', !box.checked);
  const sec = box.closest('details');
  if (sec) {
    const all = sec.querySelectorAll('input[type=checkbox][data-id]');
    const on = [...all].filter((b) => b.checked).length;
    const count = sec.querySelector('.qa-pack-count');
    if (count) count.textContent = `${on}/${all.length} 条`;
  }
});
