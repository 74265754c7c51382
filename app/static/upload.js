// Sends the upload form without leaving the page, so that a refused upload keeps the chosen file; a
// message that says when to submit again counts down, and the button waits until then.
(function () {
  const form = document.getElementById("upload");
  const messages = document.getElementById("upload-message");
  if (!form || !messages) return;
  const button = form.querySelector("button[type=submit]");
  let timer = null;

  function countDown() {
    clearInterval(timer);
    const message = messages.querySelector("[data-retry-after]");
    if (!message) { button.disabled = false; return; }
    let left = Number(message.dataset.retryAfter);
    button.disabled = left > 0;
    timer = setInterval(function () {
      left -= 1;
      if (left <= 0) {
        clearInterval(timer);
        messages.replaceChildren();
        button.disabled = false;
        return;
      }
      message.textContent = message.textContent.replace(/in \d+ seconds/, `in ${left} seconds`);
    }, 1000);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    try {
      const response = await fetch(form.action, { method: "POST", body: new FormData(form) });
      if (response.redirected) { window.location.assign(response.url); return; }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const answer = page.getElementById("upload-message");
      const token = page.querySelector("input[name=csrf_token]");
      messages.replaceChildren(...(answer ? answer.childNodes : []));
      if (token) form.querySelector("input[name=csrf_token]").value = token.value;
    } catch (error) {
      form.submit();
      return;
    }
    countDown();
  });
  countDown();
})();
