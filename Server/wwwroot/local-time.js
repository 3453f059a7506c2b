// Rewrites <time datetime="..." data-local-time> (UTC in the page's text) in the reader's own time zone and language.
// Without JavaScript the UTC text stays, which is correct, only less convenient.
(() => {
    "use strict";
    const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    for (const element of document.querySelectorAll("time[data-local-time]")) {
        const when = new Date(element.getAttribute("datetime"));
        if (!Number.isNaN(when.getTime())) {
            element.title = element.textContent;
            element.textContent = format.format(when);
        }
    }
})();
