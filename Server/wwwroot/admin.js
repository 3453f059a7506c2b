// Progressive enhancement for the admin pages (the CSP allows scripts from this origin only, never inline):
// a copy button for every element marked data-copy-target, shown only when the clipboard can be written.
(() => {
    "use strict";
    if (!navigator.clipboard) {
        return;
    }
    for (const button of document.querySelectorAll("button[data-copy-target]")) {
        const target = document.getElementById(button.dataset.copyTarget);
        if (!target) {
            continue;
        }
        const label = button.textContent;
        button.hidden = false;
        button.addEventListener("click", async () => {
            try {
                await navigator.clipboard.writeText(target.textContent.trim());
                button.textContent = "Copied";
            } catch {
                button.textContent = "Copy failed: select the text";
            }
            setTimeout(() => { button.textContent = label; }, 2000);
        });
    }
})();
