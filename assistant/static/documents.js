// 文档 tab, the document list (#qa-doc-list): 删除 asks for confirmation. Gradio `js_on_load`, see ui/documents.py.
element.addEventListener('click', (ev) => {
  const btn = ev.target.closest('[data-delete]');
  if (!btn) return;
  ev.preventDefault();
  trigger('select', {doc_id: btn.dataset.delete});
  // the confirmation appears above the list: bring it into view once it is shown
  const reveal = (tries) => {
    const box = document.getElementById('qa-confirm');
    if (box && box.offsetParent !== null && box.textContent.includes('确定要删除')) {
      box.scrollIntoView({block: 'center', behavior: 'smooth'});
    } else if (tries > 0) {
      setTimeout(() => reveal(tries - 1), 100);
    }
  };
  reveal(50);
});
