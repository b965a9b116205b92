// The marketplace's only script: a "Copy" button next to each install command.
// The pages work without it; it never reads or inserts HTML.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.copy")) {
    const command = button.parentElement.querySelector(".install-command");
    if (!command || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(command.textContent);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Select and copy";
      }
    });
  }
});
