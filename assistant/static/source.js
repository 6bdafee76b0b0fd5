// 问答 tab, the source panel (#qa-source): scroll the highlighted quote into view; 返回对话. Gradio `js_on_load`.
const reveal = () => {
  const mark = element.querySelector('mark.qa-quote');
  if (mark) mark.scrollIntoView({block: 'center', behavior: 'smooth'});
};
watch('value', reveal);
element.addEventListener('click', (ev) => {
  if (ev.target.closest('[data-back]')) {
    ev.preventDefault();
    const chat = document.querySelector('#qa-chat .qa-active') || document.getElementById('qa-chat');
    if (chat) chat.scrollIntoView({block: 'center', behavior: 'smooth'});
  }
});
