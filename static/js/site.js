// Small improvements on pages that work without JavaScript. Loaded from this site only (CSP: script-src 'self').
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A form with errors: move focus to its summary, so that screen readers announce it and keyboard users start there.
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Search filters apply as they change; the search button remains for typed text and for browsers without this.
  for (const form of document.querySelectorAll("form[data-autosubmit]")) {
    form.addEventListener("change", (event) => {
      if (event.target.matches("select, input[type=checkbox], input[type=radio]")) form.requestSubmit();
    });
    // Say so before anyone changes a choice (WCAG 3.2.2): the note is hidden when this script does not run.
    for (const hint of form.querySelectorAll("[data-autosubmit-hint]")) hint.hidden = false;
  }

  // On a wide screen the search filters have room to stay open beside the results; on a phone they stay folded.
  if (window.matchMedia("(min-width: 64rem)").matches) {
    for (const details of document.querySelectorAll("details[data-open-wide]")) details.open = true;
  }
});
