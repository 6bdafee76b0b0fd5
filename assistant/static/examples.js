// 问答 tab, example questions (#qa-examples): a click asks that question. Gradio `js_on_load`, see ui/chat.py.
element.addEventListener('click', (ev) => {
  const ex = ev.target.closest('[data-example]');
  if (ex) { ev.preventDefault(); trigger('submit', {question: ex.dataset.example}); }
});
