// Polls the submission's progress and reloads the page once grading has finished.
(function () {
  const line = document.getElementById("progress");
  if (!line || line.dataset.state === "done") return;
  async function poll() {
    try {
      const response = await fetch(line.dataset.url, { headers: { accept: "application/json" } });
      if (response.ok) {
        const progress = await response.json();
        if (progress.state === "done") { window.location.reload(); return; }
        line.dataset.state = progress.state;
        line.textContent = progress.state === "queued"
          ? `Queued: position ${progress.position} in line.`
          : "Grading now…";
      }
    } catch (error) { /* the next poll retries */ }
    setTimeout(poll, 1000);
  }
  setTimeout(poll, 1000);
})();
